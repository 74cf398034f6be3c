"""Where data may go: one loopback test, one endpoint check and one way to show an endpoint.

Corpus text leaves the machine only by opt-in. The embedder, the teacher, the fault proxy and
the publisher all ask `is_loopback` whether a host is this machine; `check_endpoint` validates
a configured `base_url` and refuses a host off loopback unless `allow_remote` is set. An
endpoint is shown and recorded only as `public_url` gives it: without `user:password@` and with
secret query parameters as `***`; the config's `base_url` fields (`EndpointUrl`) dump that way.

Example:
    >>> [is_loopback(h) for h in ("127.0.0.2", "::ffff:127.0.0.1", "api.localhost", "10.0.0.1")]
    [True, True, True, False]
    >>> public_url("https://bob:hunter2@api.example.com/v1?api_key=k&api-version=2")
    'https://api.example.com/v1?api_key=***&api-version=2'
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import PlainSerializer, SerializationInfo

from factory.credentials import REDACTED, is_secret_parameter, redact_credentials
from factory.errors import ConfigError, RemoteNotAllowedError

__all__ = [
    "KEEP_CREDENTIALS",
    "EndpointUrl",
    "check_endpoint",
    "is_loopback",
    "public_url",
    "url_credentials",
]

KEEP_CREDENTIALS = "keep_credentials"
"""`model_dump(context={KEEP_CREDENTIALS: True})` keeps an `EndpointUrl` whole (to re-validate
a config in memory, never to record it)."""

_PARAM = re.compile(r"([?&;#])([^=&;#]*)=([^&;#]*)")


def is_loopback(host: str) -> bool:
    """True for localhost (and *.localhost), 127.0.0.0/8 and ::1 (also IPv4-mapped)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def check_endpoint(
    base_url: str, allow_remote: bool, section: str, sends: str = "corpus text"
) -> str:
    """Validate config `section`'s `base_url`; return it without credentials or query; refuse
    a host off loopback unless `allow_remote` (the error says `sends` would leave the machine)."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        shown = redact_credentials(str(exc))
        msg = f"{section}.base_url {public_url(base_url)!r} is not a valid URL: {shown}"
        raise ConfigError(msg) from exc
    if parts.scheme not in {"http", "https"} or not host:
        msg = (
            f"{section}.base_url {public_url(base_url)!r} is not an http(s) URL with a "
            "host; use e.g. http://127.0.0.1:8080/v1"
        )
        raise ConfigError(msg)
    shown_host = f"[{host}]" if ":" in host else host
    endpoint = f"{parts.scheme}://{shown_host}{f':{port}' if port else ''}{parts.path.rstrip('/')}"
    if not allow_remote and not is_loopback(host):
        msg = (
            f"{section} endpoint {endpoint!r} is on host {host!r}, which is not loopback: {sends} "
            f"would leave this machine; set `allow_remote: true` under `{section}:` in "
            "factory.yaml to allow it"
        )
        raise RemoteNotAllowedError(msg)
    return endpoint


def url_credentials(base_url: str) -> tuple[tuple[str, str] | None, list[tuple[str, str]]]:
    """The `(user, password)` of `base_url` (None without one) and its query parameters: what a
    client sends with every request and never shows."""
    parts = urlsplit(base_url)
    auth = None
    if parts.username is not None or parts.password is not None:
        auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    return auth, parse_qsl(parts.query, keep_blank_values=True)


def public_url(url: str) -> str:
    """`url` as it may be shown or recorded: no `user:password@`, every parameter named like a
    secret (`api_key`, `key`, `access_token`, ...) as `***`, other credential shapes redacted."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    cut = min(ends, default=len(rest))
    host, tail = rest[:cut].rpartition("@")[2], rest[cut:]

    def param(match: re.Match[str]) -> str:
        mark, name, value = match.groups()
        secret = value and is_secret_parameter(unquote(name))
        return f"{mark}{name}={REDACTED if secret else value}"

    return redact_credentials(f"{scheme}{sep}{host}{_PARAM.sub(param, tail)}")


def _recorded(url: str, info: SerializationInfo) -> str:
    return url if (info.context or {}).get(KEEP_CREDENTIALS) else public_url(url)


EndpointUrl = Annotated[str, PlainSerializer(_recorded, when_used="always")]
"""A configured base URL: kept whole for requests, dumped (and so recorded) as `public_url`."""
