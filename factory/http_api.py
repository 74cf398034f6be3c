"""JSON requests to an OpenAI-compatible server, shared by the embedding and teacher clients.

Auth comes from an environment variable read at call time (never stored, logged or hashed), or
from a `user:password@` (Basic auth, unless a key's variable is named: its Bearer header wins) and
query parameters in the base URL, sent with every request and kept out of every attribute, repr
and message. A loopback endpoint is never reached through a proxy
(HTTP_PROXY, HTTPS_PROXY, ALL_PROXY name one for remote hosts only). 408/409/429/5xx answers,
timeouts and connection errors are retried with exponential backoff and jitter, and a
`Retry-After` header overrides the backoff.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import os
import random
import ssl
import time
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from factory.credentials import REDACTED, env_name_problem, is_secret_parameter, redact_credentials
from factory.endpoints import is_loopback, url_credentials
from factory.errors import BackendError, ConfigError

__all__ = [
    "RETRY_STATUS",
    "OpenAICompatibleClient",
    "UnsupportedRequestError",
    "parse_retry_after",
]

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_LOG = logging.getLogger(__name__)
_JITTER = random.Random()  # jitter only: never touches outputs


class UnsupportedRequestError(BackendError):
    """The server refused a request field it does not support (named in `field`)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class OpenAICompatibleClient:
    """Mixin: `_request` with retries, auth headers, key redaction and the `/models` entry.

    The host class calls `_init_endpoint` with the checked, credential-free `endpoint` and the
    configured `base_url`, and names its config section in `config_section` for messages.
    """

    config_section: ClassVar[str] = "endpoint"
    base_url: str
    endpoint: str
    model: str
    api_key_env: str | None
    allow_remote: bool
    timeout_s: float

    max_tries: int = 4
    """Attempts per request on 408/409/429/5xx, timeouts and connection errors."""
    backoff_s: float = 0.5
    """First wait between attempts; doubles each time (with jitter) unless Retry-After says."""
    max_wait_s: float = 30.0
    """Longest wait between attempts, Retry-After included."""

    def _init_endpoint(
        self,
        endpoint: str,
        base_url: str,
        model: str,
        api_key_env: str | None,
        allow_remote: bool,
        timeout_s: float,
    ) -> None:
        """Store what every request needs; `endpoint` is the checked, credential-free URL, and
        the credentials of `base_url` are kept apart from it, out of every repr and message."""
        problem = env_name_problem(api_key_env) if api_key_env is not None else None
        if problem is not None:
            raise ConfigError(f"{self.config_section}.api_key_env {problem}")
        self.endpoint = endpoint
        self.base_url = endpoint
        self.model = model
        self.api_key_env = api_key_env
        self.allow_remote = allow_remote
        self.timeout_s = timeout_s
        userinfo, self._params = url_credentials(base_url)
        self._auth = None if api_key_env else userinfo
        self._hidden = [
            *(v for v in userinfo or () if len(v) >= 4),
            *(v for k, v in self._params if len(v) >= 4 and is_secret_parameter(k)),
        ]
        self._loopback = is_loopback(urlsplit(endpoint).hostname or "")

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for an `httpx` client that talks to this endpoint: a loopback one
        ignores the environment's proxies (certificates from SSL_CERT_FILE still count)."""
        return {"trust_env": False, "verify": _tls_context()} if self._loopback else {}

    def _headers(self) -> dict[str, str]:
        if self.api_key_env is None:
            return {}
        key = os.environ.get(self.api_key_env)
        if not key:
            msg = (
                f"environment variable {self.api_key_env!r} ({self.config_section}.api_key_env) "
                "is not set; export it with the endpoint's API key"
            )
            raise BackendError(msg)
        return {"Authorization": f"Bearer {key}"}

    def _request(
        self, method: str, path: str, payload: dict[str, Any] | None, tries: int | None = None
    ) -> Any:
        import httpx

        tries = tries or self.max_tries
        what = f"{method} {self.endpoint}{path} (model {self.model!r})"
        url = self.base_url + path
        headers = self._headers()
        with httpx.Client(timeout=self.timeout_s, **self.client_options()) as client:
            for attempt in range(1, tries + 1):
                last = attempt == tries
                try:
                    resp = client.request(
                        method,
                        url,
                        json=payload,
                        headers=headers,
                        params=self._params or None,
                        auth=self._auth,
                    )
                except httpx.TransportError as exc:
                    if last:
                        msg = (
                            f"{what} failed after {tries} tries: {type(exc).__name__}: {exc}; "
                            f"is the server running? raise {self.config_section}.timeout_s "
                            "for slow models"
                        )
                        raise BackendError(self._redact(msg)) from exc
                    self._sleep(what, attempt, type(exc).__name__, None)
                    continue
                if resp.status_code in RETRY_STATUS and not last:
                    self._sleep(what, attempt, resp.status_code, resp.headers.get("retry-after"))
                    continue
                if resp.status_code >= 400:
                    detail = self._redact(resp.text[:300])
                    msg = (
                        f"{what} answered HTTP {resp.status_code} after {attempt} "
                        f"tries: {detail}; check the model id, the key and the server log"
                    )
                    raise BackendError(msg)
                try:
                    return resp.json()
                except ValueError as exc:
                    if not last:
                        self._sleep(what, attempt, "a cut-off JSON body", None)
                        continue
                    shown = self._redact(resp.text[:200])
                    msg = f"{what} answered with non-JSON {attempt} times, last: {shown!r}"
                    raise BackendError(msg) from exc
        msg = f"{what}: no attempt made (tries={tries}); set max_tries to 1 or more"
        raise BackendError(msg)

    async def _arequest(
        self,
        client: Any,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        unsupported_field: str | None = None,
    ) -> Any:
        """Async `_request` on a shared `httpx.AsyncClient`; a 200 whose body is not JSON (cut
        off mid-answer) is retried too. An error answer naming `unsupported_field` raises
        `UnsupportedRequestError` at once, so the caller can drop that field. A client that
        would use the environment's proxies is not used for a loopback endpoint."""
        import asyncio

        import httpx

        if self._loopback and client.trust_env:
            async with httpx.AsyncClient(**self.client_options()) as own:
                return await self._arequest(own, method, path, payload, unsupported_field)
        what = f"{method} {self.endpoint}{path} (model {self.model!r})"
        url = self.base_url + path
        headers = self._headers()
        for attempt in range(1, self.max_tries + 1):
            last = attempt == self.max_tries
            try:
                resp = await client.request(
                    method,
                    url,
                    json=payload,
                    headers=headers,
                    params=self._params or None,
                    auth=self._auth,
                    timeout=self.timeout_s,
                )
                body_text = resp.text
            except httpx.TransportError as exc:
                if last:
                    msg = (
                        f"{what} failed after {attempt} tries: {type(exc).__name__}: {exc}; "
                        f"is the server running? raise {self.config_section}.timeout_s "
                        "for slow models"
                    )
                    raise BackendError(self._redact(msg)) from exc
                await asyncio.sleep(self._wait(what, attempt, type(exc).__name__, None))
                continue
            status = resp.status_code
            if status >= 400 and unsupported_field and unsupported_field in body_text:
                detail = self._redact(body_text[:300])
                msg = f"{what} does not support {unsupported_field!r}: HTTP {status}: {detail}"
                raise UnsupportedRequestError(msg, unsupported_field)
            if status in RETRY_STATUS and not last:
                retry_after = resp.headers.get("retry-after")
                await asyncio.sleep(self._wait(what, attempt, status, retry_after))
                continue
            if status >= 400:
                detail = self._redact(body_text[:300])
                msg = (
                    f"{what} answered HTTP {status} after {attempt} tries: {detail}; "
                    "check the model id, the key and the server log"
                )
                raise BackendError(msg)
            try:
                return resp.json()
            except ValueError as exc:
                if last:
                    shown = self._redact(body_text[:200])
                    msg = f"{what} answered with non-JSON {attempt} times, last: {shown!r}"
                    raise BackendError(msg) from exc
                await asyncio.sleep(self._wait(what, attempt, "a cut-off JSON body", None))
        msg = f"{what}: no attempt made (max_tries={self.max_tries}); set it to 1 or more"
        raise BackendError(msg)

    def _server_model(self) -> dict[str, Any] | None:
        """The server's `/models` entry for this model, or None when it does not say."""
        try:
            body = self._request("GET", "/models", None, tries=1)
        except BackendError:
            return None
        data = body.get("data") if isinstance(body, dict) else None
        for entry in data if isinstance(data, list) else []:
            if isinstance(entry, dict) and entry.get("id") == self.model:
                return entry
        return None

    def _sleep(self, what: str, attempt: int, why: object, retry_after: str | None) -> None:
        time.sleep(self._wait(what, attempt, why, retry_after))

    def _wait(self, what: str, attempt: int, why: object, retry_after: str | None) -> float:
        wait = self.retry_wait(attempt, retry_after)
        _LOG.warning("%s: %s on try %d; retrying in %.2f s", what, why, attempt, wait)
        return wait

    def retry_wait(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed try `attempt`: Retry-After, else jittered backoff."""
        if retry_after:
            wait = parse_retry_after(retry_after)
            if wait is not None:
                return min(max(0.0, wait), self.max_wait_s)
        base = self.backoff_s * 2 ** (attempt - 1)
        return min(base * _JITTER.uniform(0.5, 1.5), self.max_wait_s)

    def _redact(self, text: str) -> str:
        """`text` without the API key, the base URL's credentials or anything shaped like one."""
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        for secret in (key, *self._hidden):
            if secret:
                text = text.replace(secret, REDACTED)
        return redact_credentials(text)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every loopback client (built once: building one takes ~20 ms)."""
    import httpx

    return httpx.create_ssl_context(trust_env=True)


def parse_retry_after(value: str) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date); None when unreadable."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
