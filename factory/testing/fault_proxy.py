"""A local fault-injecting HTTP proxy in front of an OpenAI-compatible server, for rehearsals.

Each POST draws one fault from a seeded `random.Random`, in arrival order: a 429 with
`Retry-After`, a 500, a hang (read the request, never answer) or a truncated body (full
`Content-Length`, half the bytes); otherwise it is forwarded. GET requests (`/v1/models`) are
always forwarded. Every answer carries `Connection: close`. Text goes only to a loopback
upstream unless `allow_remote=True`, the same opt-in the teacher asks for, and only to that
upstream: a request target that is not a plain path (`@host/...`, `//host/...`, an absolute URL,
`*`) is answered 400, never forwarded.

Example:
    >>> proxy = FaultProxy("http://127.0.0.1:8080/v1", FaultRates.uniform(0.2))  # doctest: +SKIP
    >>> with proxy:  # doctest: +SKIP
    ...     teacher = OpenAIChatTeacher(proxy.base_url, "smollm2")
    ...     ...
    ...     proxy.counts
    {'forwarded': 81, 'too_many_requests': 5, 'server_error': 4, 'hang': 6, 'truncated': 4}
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, fields
from http import HTTPStatus
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import httpx

from factory.endpoints import is_loopback, public_url
from factory.errors import BackendError, ConfigError, RemoteNotAllowedError
from factory.serving import free_port

__all__ = ["FAULT_KINDS", "FaultProxy", "FaultRates", "serve_fault_proxy"]

FAULT_KINDS = ("too_many_requests", "server_error", "hang", "truncated")
"""The fault kinds, in the order their rates are stacked when drawing."""

_HOST = "127.0.0.1"
_FORWARDED_HEADERS = ("content-type", "authorization", "accept")
_MAX_BODY_BYTES = 64 * 1024 * 1024
_UPSTREAM_TIMEOUT_S = 600.0
_START_TIMEOUT_S = 10.0
_ORIGIN_FORM = re.compile(r"/(?![/\\])[!-\[\]-~]*")
"""A request target that is a path on the upstream: one `/`, then printable ASCII, no `\\`."""
_Reply = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault kind per POST request; the rest is forwarded."""

    too_many_requests: float = 0.05
    server_error: float = 0.05
    hang: float = 0.05
    truncated: float = 0.05

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not 0.0 <= value <= 1.0:
                msg = f"fault rate {field.name}={value!r} is outside [0, 1]; use a probability"
                raise ValueError(msg)
        if self.total > 1.0 + 1e-9:
            msg = (
                f"fault rates sum to {self.total!r}, more than 1; lower them so that "
                "too_many_requests + server_error + hang + truncated <= 1"
            )
            raise ValueError(msg)

    @classmethod
    def uniform(cls, total: float) -> FaultRates:
        """`total` split evenly over the four fault kinds."""
        if not 0.0 <= total <= 1.0:
            msg = f"total fault rate {total!r} is outside [0, 1]; use a probability"
            raise ValueError(msg)
        share = total / len(FAULT_KINDS)
        return cls(share, share, share, share)

    @property
    def total(self) -> float:
        """Probability that a POST request gets any fault."""
        return self.too_many_requests + self.server_error + self.hang + self.truncated


class FaultProxy:
    """Context manager; serves on 127.0.0.1 in a daemon thread running its own event loop."""

    def __init__(
        self,
        upstream_base_url: str,
        rates: FaultRates,
        seed: int = 0,
        hang_s: float = 30.0,
        retry_after_s: float = 1.0,
        port: int | None = None,
        allow_remote: bool = False,
    ) -> None:
        self._origin, self._prefix = _split_upstream(upstream_base_url, allow_remote)
        self.upstream_base_url = public_url(upstream_base_url)
        self.rates = rates
        self.seed = seed
        self.hang_s = hang_s
        self.retry_after_s = retry_after_s
        self.port = port
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._arrivals = 0
        self._counts = dict.fromkeys(("forwarded", *FAULT_KINDS), 0)
        self._decisions: list[str] = []
        self._forwarded: list[tuple[int, str]] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._client: httpx.AsyncClient | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._ready = threading.Event()
        self._start_error: BaseException | None = None

    @property
    def base_url(self) -> str:
        """The proxy's base URL, with the upstream's path, e.g. `http://127.0.0.1:41234/v1`."""
        if self.port is None:
            msg = "the fault proxy has no port yet; call start() or use it as a context manager"
            raise BackendError(msg)
        return f"http://{_HOST}:{self.port}{self._prefix}"

    @property
    def counts(self) -> dict[str, int]:
        """How many requests got each decision: "forwarded" or one of `FAULT_KINDS`."""
        with self._lock:
            return dict(self._counts)

    @property
    def decisions(self) -> list[str]:
        """The decision for each request received, in arrival order."""
        with self._lock:
            return list(self._decisions)

    @property
    def requests(self) -> list[str]:
        """SHA-256 hex of each request body that reached the upstream, in arrival order."""
        with self._lock:
            return [digest for _, digest in sorted(self._forwarded)]

    def start(self) -> Self:
        """Start serving; return once the port is listening."""
        if self._thread is not None:
            return self
        if self.port is None:
            self.port = free_port(_HOST)
        self._ready.clear()
        self._start_error = None
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT_S):
            msg = f"fault proxy did not start within {_START_TIMEOUT_S} s on port {self.port}"
            raise BackendError(msg)
        if self._start_error is not None:
            self._thread.join()
            self._thread = None
            msg = (
                f"fault proxy could not listen on {_HOST}:{self.port}: {self._start_error}; "
                "pick another port or leave it unset"
            )
            raise BackendError(msg) from self._start_error
        return self

    def stop(self) -> None:
        """Cancel open connections (hangs included), close the server and join the thread."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = self._loop = self._stopping = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        try:
            server = await asyncio.start_server(self._accept, _HOST, self.port)
        except OSError as exc:
            self._start_error = exc
            self._ready.set()
            return
        timeout = httpx.Timeout(_UPSTREAM_TIMEOUT_S, connect=10.0)
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()
            handlers = list(self._handlers)
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            await server.wait_closed()
            await self._client.aclose()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to answer
        except asyncio.CancelledError:
            pass  # stop() cancels open connections; end quietly, this task is the top level
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, target, headers, body = await _read_request(reader)
        except _BadRequestError as exc:
            await _send(writer, _error_reply(exc.status, str(exc)))
            return
        seq, decision = self._decide(method)
        if decision == "too_many_requests":
            reply = _error_reply(429, "rate limited by the fault proxy")
            reply[1]["retry-after"] = f"{self.retry_after_s:g}"
            await _send(writer, reply)
        elif decision == "server_error":
            await _send(writer, _error_reply(500, "internal error injected by the fault proxy"))
        elif decision == "hang":
            await asyncio.sleep(self.hang_s)
        else:
            reply = await self._forward(seq, method, target, headers, body)
            await _send(writer, reply, truncate=decision == "truncated")

    def _decide(self, method: str) -> tuple[int, str]:
        with self._lock:
            seq = self._arrivals
            self._arrivals += 1
            decision = "forwarded"
            if method == "POST":
                u = self._rng.random()
                edge = 0.0
                for kind in FAULT_KINDS:
                    edge += getattr(self.rates, kind)
                    if u < edge:
                        decision = kind
                        break
            self._counts[decision] += 1
            self._decisions.append(decision)
            return seq, decision

    async def _forward(
        self, seq: int, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> _Reply:
        assert self._client is not None
        sent = {name: headers[name] for name in _FORWARDED_HEADERS if name in headers}
        url = httpx.URL(self._origin + target)
        if url.join("/") != httpx.URL(self._origin).join("/"):  # never another host or user
            return _error_reply(400, f"request target {target[:100]!r} leaves the upstream")
        try:
            response = await self._client.request(method, url, headers=sent, content=body)
        except httpx.TimeoutException as exc:
            return _error_reply(504, f"upstream {self._origin} timed out: {exc!r}")
        except httpx.HTTPError as exc:
            return _error_reply(502, f"upstream {self._origin} failed: {exc!r}")
        with self._lock:
            self._forwarded.append((seq, hashlib.sha256(body).hexdigest()))
        content_type = response.headers.get("content-type", "application/octet-stream")
        return response.status_code, {"content-type": content_type}, response.content


class _BadRequestError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
    """Method, target, lower-cased headers and body of one HTTP/1.1 request."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise _BadRequestError(431, "request headers are too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise _BadRequestError(400, f"malformed request line {lines[0]!r}")
    method, target, _ = parts
    if _ORIGIN_FORM.fullmatch(target) is None:
        msg = (
            f"request target {target[:100]!r} is not origin-form; send a path on the upstream "
            "starting with one `/`, e.g. POST /v1/chat/completions"
        )
        raise _BadRequestError(400, msg)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, sep, value = line.partition(":")
            if not sep:
                raise _BadRequestError(400, f"malformed header line {line!r}")
            headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise _BadRequestError(411, "chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise _BadRequestError(400, f"bad Content-Length {headers['content-length']!r}") from exc
    if not 0 <= length <= _MAX_BODY_BYTES:
        raise _BadRequestError(413, f"Content-Length {length} is outside [0, {_MAX_BODY_BYTES}]")
    body = await reader.readexactly(length) if length else b""
    return method.upper(), target, headers, body


def _error_reply(status: int, message: str) -> _Reply:
    body = json.dumps({"error": {"message": message, "type": "fault_proxy", "code": status}})
    return status, {"content-type": "application/json"}, body.encode()


async def _send(writer: asyncio.StreamWriter, reply: _Reply, truncate: bool = False) -> None:
    """Write one response with `Connection: close`; with `truncate`, only half of the body."""
    status, headers, body = reply
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += [f"content-length: {len(body)}", "connection: close", "", ""]
    writer.write(
        "\r\n".join(lines).encode("latin-1") + (body[: len(body) // 2] if truncate else body)
    )
    await writer.drain()


def _split_upstream(base_url: str, allow_remote: bool) -> tuple[str, str]:
    """Origin (`http://host:port`) and path prefix (`/v1`) of the upstream base URL."""
    try:
        parts = urlsplit(base_url)
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        msg = (
            f"upstream {public_url(base_url)!r} is not a valid URL; use e.g. "
            "http://127.0.0.1:8080/v1"
        )
        raise ConfigError(msg) from exc
    shown = public_url(base_url)
    if parts.scheme not in {"http", "https"} or not host:
        msg = f"upstream {shown!r} is not an http(s) URL; use e.g. http://127.0.0.1:8080/v1"
        raise ConfigError(msg)
    if not allow_remote and not is_loopback(host):
        msg = (
            f"upstream {shown!r} is on host {host!r}, which is not loopback: text would leave "
            "this machine; pass allow_remote=True to allow it"
        )
        raise RemoteNotAllowedError(msg)
    shown_host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown_host}{f':{port}' if port else ''}", parts.path.rstrip("/")


def serve_fault_proxy(upstream: str, rate: float, seed: int, hang_s: float, port: int) -> None:
    """Serve a proxy with `rate` split evenly over the fault kinds until Ctrl-C (`port` 0: any)."""
    proxy = FaultProxy(
        upstream, FaultRates.uniform(rate), seed=seed, hang_s=hang_s, port=port or None
    )
    with proxy:
        print(proxy.base_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1.0)
    print(json.dumps(proxy.counts), flush=True)
