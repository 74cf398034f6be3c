"""Where data may go: one loopback test and one endpoint check for every HTTP client.

Corpus text leaves the machine only by opt-in. The embedder, the teacher, the fault proxy and
the publisher all ask `is_loopback` whether a host is this machine; `check_endpoint` validates
a configured `base_url` and refuses a host off loopback unless `allow_remote` is set.

Example:
    >>> [is_loopback(h) for h in ("127.0.0.2", "::ffff:127.0.0.1", "api.localhost", "10.0.0.1")]
    [True, True, True, False]
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from factory.errors import ConfigError, RemoteNotAllowedError

__all__ = ["check_endpoint", "is_loopback", "strip_userinfo"]


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
    """Validate config `section`'s `base_url`; return it without credentials; refuse a host off
    loopback unless `allow_remote` (the error says `sends` would leave the machine)."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        msg = f"{section}.base_url {strip_userinfo(base_url)!r} is not a valid URL: {exc}"
        raise ConfigError(msg) from exc
    if parts.scheme not in {"http", "https"} or not host:
        msg = (
            f"{section}.base_url {strip_userinfo(base_url)!r} is not an http(s) URL with a "
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


def strip_userinfo(url: str) -> str:
    """`url` without a `user:password@` part, safe to show."""
    head, sep, tail = url.partition("://")
    return head + sep + tail.split("@", 1)[-1] if sep else url
