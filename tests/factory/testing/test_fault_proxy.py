"""The fault proxy: byte-identical forwarding, each fault kind, seeded mixes, stop() under hangs."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from factory.errors import RemoteNotAllowedError
from factory.testing import fault_proxy
from factory.testing.fault_proxy import FAULT_KINDS, FaultProxy, FaultRates, serve_fault_proxy
from tests.fixtures.network import free_port

NO_FAULTS = FaultRates(0.0, 0.0, 0.0, 0.0)


class _Upstream(BaseHTTPRequestHandler):
    """An OpenAI-compatible stand-in: chat completions echo the body's hash, models list one."""

    protocol_version = "HTTP/1.1"
    wbufsize = -1  # one write per response: no Nagle/delayed-ACK stall between headers and body
    seen: list[str]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        digest = hashlib.sha256(body).hexdigest()
        self.seen.append(digest)
        if self.path != "/v1/chat/completions":
            self._reply(404, {"error": {"message": f"no route {self.path}"}})
            return
        text = f"echo {digest} auth={self.headers.get('authorization')}"
        choice = {"index": 0, "message": {"role": "assistant", "content": text}}
        self._reply(200, {"id": digest[:8], "choices": [choice], "pad": "x" * 300})

    def do_GET(self) -> None:
        self.seen.append(hashlib.sha256(b"").hexdigest())
        self._reply(200, {"object": "list", "data": [{"id": "smollm2", "object": "model"}]})

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[str]]]:
    """Base URL of a tiny threaded upstream on 127.0.0.1 and the hashes of bodies it received."""
    seen: list[str] = []
    handler = type("Handler", (_Upstream,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _body(i: int) -> bytes:
    messages = [{"role": "user", "content": f"question {i}"}]
    return json.dumps({"model": "smollm2", "messages": messages, "seed": i}).encode()


def _post(client: httpx.Client, base_url: str, i: int) -> httpx.Response:
    headers = {"content-type": "application/json", "authorization": "Bearer k"}
    return client.post(f"{base_url}/chat/completions", content=_body(i), headers=headers)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_zero_rates_forward_byte_identical(upstream: tuple[str, list[str]]) -> None:
    base, seen = upstream
    with FaultProxy(base, NO_FAULTS) as proxy, httpx.Client(timeout=5.0) as client:
        assert proxy.base_url == f"http://127.0.0.1:{proxy.port}/v1"
        for i in range(10):
            via, direct = _post(client, proxy.base_url, i), _post(client, base, i)
            assert (via.status_code, via.content) == (direct.status_code, direct.content)
            assert via.headers["content-type"] == direct.headers["content-type"]
            assert via.headers["connection"] == "close"
            assert "auth=Bearer k" in via.json()["choices"][0]["message"]["content"]
        models = client.get(f"{proxy.base_url}/models")
        assert models.content == client.get(f"{base}/models").content
        missing = client.post(f"{proxy.base_url}/nowhere", content=b"{}")
        assert missing.status_code == 404
        counts, requests = proxy.counts, proxy.requests
    assert counts == {"forwarded": 12, **dict.fromkeys(FAULT_KINDS, 0)}
    expected = [_sha(_body(i)) for i in range(10)] + [_sha(b""), _sha(b"{}")]
    assert requests == expected
    assert sorted(seen) == sorted(expected + [_sha(_body(i)) for i in range(10)] + [_sha(b"")])


def test_too_many_requests_carries_retry_after(upstream: tuple[str, list[str]]) -> None:
    base, seen = upstream
    rates = FaultRates(too_many_requests=1.0, server_error=0.0, hang=0.0, truncated=0.0)
    with FaultProxy(base, rates, retry_after_s=2.5) as proxy, httpx.Client() as client:
        response = _post(client, proxy.base_url, 0)
        assert proxy.counts["too_many_requests"] == 1
        assert proxy.requests == []
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2.5"
    assert response.json()["error"]["code"] == 429
    assert seen == []


def test_server_error_is_json_and_not_forwarded(upstream: tuple[str, list[str]]) -> None:
    base, seen = upstream
    rates = FaultRates(too_many_requests=0.0, server_error=1.0, hang=0.0, truncated=0.0)
    with FaultProxy(base, rates) as proxy, httpx.Client() as client:
        response = _post(client, proxy.base_url, 0)
        assert proxy.requests == []
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert "fault proxy" in response.json()["error"]["message"]
    assert seen == []


def test_hang_times_out_client_blocks_nobody_and_stops_fast(
    upstream: tuple[str, list[str]],
) -> None:
    base, seen = upstream
    rates = FaultRates(too_many_requests=0.0, server_error=0.0, hang=1.0, truncated=0.0)
    proxy = FaultProxy(base, rates, hang_s=5.0).start()
    try:
        with httpx.Client(timeout=0.5) as client:
            with pytest.raises(httpx.ReadTimeout):
                _post(client, proxy.base_url, 0)
            assert client.get(f"{proxy.base_url}/models").status_code == 200  # not blocked
    finally:
        began = time.monotonic()
        proxy.stop()
        took = time.monotonic() - began
    assert took < 2.0
    assert proxy.counts["hang"] == 1
    assert seen == [_sha(b"")]


def test_truncated_sends_full_length_half_body(upstream: tuple[str, list[str]]) -> None:
    base, seen = upstream
    rates = FaultRates(too_many_requests=0.0, server_error=0.0, hang=0.0, truncated=1.0)
    with FaultProxy(base, rates) as proxy:
        with httpx.Client(timeout=5.0) as client, pytest.raises(httpx.RemoteProtocolError):
            _post(client, proxy.base_url, 0)
        head, body = _raw_post(proxy.port or 0, _body(1))
        assert proxy.requests == [_sha(_body(0)), _sha(_body(1))]
    length = int(head["content-length"])
    assert head["status"] == "200"
    assert len(body) == length // 2
    assert seen == [_sha(_body(0)), _sha(_body(1))]


def _raw_post(port: int, body: bytes) -> tuple[dict[str, str], bytes]:
    """Status and headers, and every body byte received before the server closed."""
    request = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    raw_head, _, rest = data.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    head = {"status": lines[0].split(" ")[1]}
    head.update((k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:]))
    return head, rest


def _outcome(client: httpx.Client, base_url: str, i: int) -> str:
    """What the client saw, named like the proxy's decisions."""
    try:
        response = _post(client, base_url, i)
    except httpx.RemoteProtocolError as exc:
        return "truncated" if "complete message body" in str(exc) else "hang"
    return {200: "forwarded", 429: "too_many_requests", 500: "server_error"}[response.status_code]


def test_seeded_mix_is_reproducible(upstream: tuple[str, list[str]]) -> None:
    base, _ = upstream
    n, rates = 200, FaultRates.uniform(0.2)
    runs = []
    for seed, size in ((7, n), (7, n), (8, 50)):
        with FaultProxy(base, rates, seed=seed, hang_s=0.0) as proxy, httpx.Client() as client:
            outcomes = [_outcome(client, proxy.base_url, i) for i in range(size)]
            runs.append((proxy.decisions, proxy.counts, proxy.requests, outcomes))
    (decisions, counts, requests, outcomes), again, other = runs
    assert outcomes == decisions
    assert again == runs[0]
    assert other[0] != decisions[:50]
    assert sum(counts.values()) == n
    assert 20 <= n - counts["forwarded"] <= 60  # expected 40, sd 5.7
    assert all(2 <= counts[kind] <= 22 for kind in FAULT_KINDS)  # expected 10 each, sd 3.1
    reached = [i for i, kind in enumerate(decisions) if kind in {"forwarded", "truncated"}]
    assert requests == [_sha(_body(i)) for i in reached]


def test_get_is_never_faulted(upstream: tuple[str, list[str]]) -> None:
    base, _ = upstream
    rates = FaultRates(too_many_requests=0.0, server_error=1.0, hang=0.0, truncated=0.0)
    with FaultProxy(base, rates) as proxy, httpx.Client(timeout=5.0) as client:
        statuses = {client.get(f"{proxy.base_url}/models").status_code for _ in range(20)}
        assert _post(client, proxy.base_url, 0).status_code == 500
        counts = proxy.counts
    assert statuses == {200}
    assert counts == {"forwarded": 20, **dict.fromkeys(FAULT_KINDS, 0), "server_error": 1}


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"hang": -0.1}, r"hang=-0\.1 is outside"),
        ({"truncated": 1.5}, r"truncated=1\.5 is outside"),
        ({"too_many_requests": 0.5, "server_error": 0.5, "hang": 0.5}, r"sum to 1\.55"),
    ],
)
def test_invalid_rates_raise(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        FaultRates(**kwargs)


def test_uniform_splits_total() -> None:
    rates = FaultRates.uniform(0.2)
    assert rates.hang == pytest.approx(0.05)
    assert rates.total == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"total fault rate 1\.2"):
        FaultRates.uniform(1.2)


def test_upstream_down_is_502() -> None:
    base = f"http://127.0.0.1:{free_port()}/v1"
    with FaultProxy(base, NO_FAULTS) as proxy, httpx.Client(timeout=5.0) as client:
        response = _post(client, proxy.base_url, 0)
        assert proxy.requests == []
    assert response.status_code == 502
    assert "failed" in response.json()["error"]["message"]


def test_remote_upstream_needs_opt_in() -> None:
    with pytest.raises(RemoteNotAllowedError, match="allow_remote=True"):
        FaultProxy("http://example.com/v1", NO_FAULTS)


def test_serve_fault_proxy_prints_url_and_counts(
    upstream: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(fault_proxy, "time", types.SimpleNamespace(sleep=interrupt))
    serve_fault_proxy(upstream[0], rate=0.2, seed=0, hang_s=1.0, port=0)
    url, counts = capsys.readouterr().out.splitlines()
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/v1")
    assert json.loads(counts) == {"forwarded": 0, **dict.fromkeys(FAULT_KINDS, 0)}


@pytest.mark.parametrize(
    "target",
    [
        "@127.0.0.1:{port}/v1/chat/completions",
        "//127.0.0.1:{port}/v1/chat/completions",
        "http://127.0.0.1:{port}/v1/chat/completions",
        "127.0.0.1:{port}",
        "*",
        "/v1/chat/completions@127.0.0.1:{port}",
    ],
)
def test_only_origin_form_targets_are_forwarded(
    upstream: tuple[str, list[str]], target: str
) -> None:
    """A request target that could name another host is answered 400, never forwarded."""
    from tests.fixtures.recording_proxy import RecordingProxy

    _, seen = upstream
    with RecordingProxy() as elsewhere, FaultProxy(upstream[0], NO_FAULTS) as proxy:
        port = elsewhere.url.rsplit(":", 1)[1]
        body = _body(0)
        head = (
            f"POST {target.format(port=port)} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"content-type: application/json\r\nauthorization: Bearer k\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", proxy.port or 0), timeout=5) as sock:
            sock.sendall(head.encode() + body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert elsewhere.received == []
    status_line = answer.split(b"\r\n", 1)[0]
    if target.startswith("/v1/"):  # an @ in the path stays a path on the configured upstream
        assert status_line.endswith(b"404 Not Found")
        assert len(seen) == 1
    else:
        assert status_line == b"HTTP/1.1 400 Bad Request"
        assert b"origin-form" in answer
        assert seen == []
        assert proxy.requests == []
