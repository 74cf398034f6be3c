"""The OpenAI-compatible embedder: loopback rule, secrets, retries, response parsing."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from factory.config import EmbeddingConfig
from factory.embedding import OpenAIEmbedder, create_embedder
from factory.errors import BackendError, ConfigError, RemoteNotAllowedError

KEY = "sk-test-0123456789-never-print-me"
DIM = 3
MODEL_ENTRY = {"id": "m", "object": "model", "owned_by": "x"}


@dataclass
class Script:
    """What the fake endpoint answers, in order, and what it received."""

    replies: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    delay_first_s: float = 0.0


def _ok(texts: list[str], reverse: bool = False) -> dict[str, Any]:
    data = [
        {"object": "embedding", "index": i, "embedding": [float(i + 1), 2.0, 0.0]}
        for i in range(len(texts))
    ]
    return {"object": "list", "data": data[::-1] if reverse else data, "model": "m"}


@pytest.fixture
def endpoint() -> Iterator[tuple[str, Script]]:
    """A tiny scripted OpenAI-compatible server on 127.0.0.1 in a thread."""
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, headers: dict[str, str], body: Any) -> None:
            raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def do_GET(self) -> None:
            script.requests.append({"method": "GET", "path": self.path})
            self._reply(200, {}, {"object": "list", "data": [MODEL_ENTRY]})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            n = len(script.requests)
            script.requests.append(
                {"method": "POST", "path": self.path, "headers": dict(self.headers), "body": body}
            )
            if n == 0 and script.delay_first_s:
                time.sleep(script.delay_first_s)
            if script.replies:
                status, headers, reply = script.replies.pop(0)
                self._reply(status, headers, reply(body["input"]) if callable(reply) else reply)
            else:
                self._reply(200, {}, _ok(body["input"]))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", script
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _fast(emb: OpenAIEmbedder) -> OpenAIEmbedder:
    emb.backoff_s = 0.01
    return emb


@pytest.mark.parametrize(
    "url",
    ["https://api.example.com/v1", "http://10.0.0.5:8000/v1", "http://localhost.example.org/v1"],
)
def test_remote_endpoint_refused_without_allow_remote(url: str) -> None:
    host = url.split("//")[1].split("/")[0].split(":")[0]
    with pytest.raises(RemoteNotAllowedError) as info:
        OpenAIEmbedder(url, "text-embedding-3-small")
    assert host in str(info.value)
    assert "allow_remote: true" in str(info.value)


def test_remote_refused_through_the_config() -> None:
    cfg = EmbeddingConfig(backend="openai", base_url="https://api.example.com/v1", model="m")
    with pytest.raises(RemoteNotAllowedError, match="allow_remote: true"):
        create_embedder(cfg)
    allowed = create_embedder(cfg.model_copy(update={"allow_remote": True}))
    assert isinstance(allowed, OpenAIEmbedder)


def test_bad_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not an http\\(s\\) URL"):
        OpenAIEmbedder("127.0.0.1:8080", "m")


def test_openai_backend_needs_base_url() -> None:
    with pytest.raises(ConfigError, match=r"needs embedding\.base_url"):
        create_embedder(EmbeddingConfig(backend="openai", model="m"))


def test_key_sent_but_never_shown(
    endpoint: tuple[str, Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, script = endpoint
    monkeypatch.setenv("FACTORY_TEST_KEY", KEY)
    emb = _fast(OpenAIEmbedder(url, "m", api_key_env="FACTORY_TEST_KEY"))
    emb.embed(["a", "b"])
    assert script.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
    shown = [repr(emb), emb.fingerprint, json.dumps(emb.fingerprint_info())]
    assert all(KEY not in s for s in shown)
    script.replies = [(401, {}, {"error": f"invalid key {KEY}"})]
    with pytest.raises(BackendError) as info:
        emb.embed(["c"])
    assert "HTTP 401" in str(info.value)
    assert KEY not in str(info.value)
    assert "***" in str(info.value)


def test_missing_key_variable_is_named(endpoint: tuple[str, Script]) -> None:
    url, _ = endpoint
    emb = OpenAIEmbedder(url, "m", api_key_env="FACTORY_TEST_KEY_UNSET")
    with pytest.raises(BackendError, match=r"'FACTORY_TEST_KEY_UNSET'.*not set"):
        emb.embed(["a"])


def test_retries_429_and_500_then_succeeds(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.replies = [
        (429, {"Retry-After": "0"}, {"error": "slow down"}),
        (500, {}, {"error": "boom"}),
        (200, {}, _ok),
    ]
    started = time.monotonic()
    vectors = _fast(OpenAIEmbedder(url, "m")).embed(["a", "b"])
    assert len([r for r in script.requests if r["method"] == "POST"]) == 3
    assert vectors.shape == (2, DIM)
    assert time.monotonic() - started < 5


def test_retry_after_is_honoured(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.replies = [(429, {"Retry-After": "0.3"}, {"error": "slow down"})]
    started = time.monotonic()
    _fast(OpenAIEmbedder(url, "m")).embed(["a"])
    assert time.monotonic() - started >= 0.3


def test_gives_up_after_max_tries(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.replies = [(503, {}, {"error": "down"})] * 10
    emb = _fast(OpenAIEmbedder(url, "m"))
    with pytest.raises(BackendError, match="HTTP 503 after 4 tries"):
        emb.embed(["a"])
    assert len(script.requests) == emb.max_tries


def test_timeout_is_retried(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.delay_first_s = 1.0
    vectors = _fast(OpenAIEmbedder(url, "m", timeout_s=0.3)).embed(["a"])
    assert vectors.shape == (1, DIM)
    assert len(script.requests) == 2


def test_rows_ordered_by_index_and_normalized(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.replies = [(200, {}, lambda texts: _ok(texts, reverse=True))]
    vectors = OpenAIEmbedder(url, "m").embed(["a", "b", "c"])
    expected = np.array([[1, 2, 0], [2, 2, 0], [3, 2, 0]], dtype=np.float32)
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)
    assert script.requests[0]["body"] == {"model": "m", "input": ["a", "b", "c"]}


def test_token_level_vectors_are_refused(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    token_level = {"data": [{"index": 0, "embedding": [[1.0, 0.0], [0.0, 1.0]]}]}
    script.replies = [(200, {}, token_level)]
    with pytest.raises(BackendError, match=r"one vector per token.*pooling"):
        OpenAIEmbedder(url, "m").embed(["a"])


def test_wrong_count_is_refused(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    script.replies = [(200, {}, _ok(["only one"]))]
    with pytest.raises(BackendError, match="returned 1 embeddings for 2 inputs"):
        OpenAIEmbedder(url, "m").embed(["a", "b"])


def test_fingerprint_uses_endpoint_model_and_server_report(endpoint: tuple[str, Script]) -> None:
    url, _ = endpoint
    info = OpenAIEmbedder(url, "m").fingerprint_info()
    assert info["weights_verifiable"] is False
    assert info["server_model"] == MODEL_ENTRY
    assert info["endpoint"] == url
    assert OpenAIEmbedder(url, "m").fingerprint == info["fingerprint"]
    assert OpenAIEmbedder(url, "other").fingerprint != info["fingerprint"]


def test_unreachable_endpoint_says_so() -> None:
    from tests.fixtures.network import free_port

    emb = _fast(OpenAIEmbedder(f"http://127.0.0.1:{free_port()}/v1", "m"))
    emb.max_tries = 2
    with pytest.raises(BackendError, match="failed after 2 tries: ConnectError"):
        emb.embed(["a"])


PASSWORD = "Pl4ntedUserinfoPw"
QUERY_KEY = "Pl4ntedQueryKey77"


def _with_credentials(url: str) -> str:
    scheme, rest = url.split("://")
    return f"{scheme}://planted:{PASSWORD}@{rest}?api_key={QUERY_KEY}"


def test_url_credentials_are_sent_but_never_shown(endpoint: tuple[str, Script]) -> None:
    url, script = endpoint
    emb = _fast(OpenAIEmbedder(_with_credentials(url), "m"))
    emb.embed(["a"])
    sent = script.requests[-1]
    assert sent["path"] == f"/v1/embeddings?api_key={QUERY_KEY}"
    assert sent["headers"]["Authorization"].startswith("Basic ")
    script.replies = [(401, {}, {"error": f"bad password {PASSWORD} or key {QUERY_KEY}"})]
    with pytest.raises(BackendError) as info:
        emb.embed(["b"])
    shown = [
        repr(emb),
        emb.base_url,
        emb.endpoint,
        json.dumps(emb.fingerprint_info()),
        str(info.value),
    ]
    for text in shown:
        assert PASSWORD not in text
        assert QUERY_KEY not in text
    assert emb.endpoint == url


def test_a_pasted_key_is_no_variable_name() -> None:
    with pytest.raises(ConfigError, match=r"embedding\.api_key_env must be the NAME") as info:
        OpenAIEmbedder("http://127.0.0.1:9/v1", "m", api_key_env=KEY)
    assert KEY not in str(info.value)


def test_loopback_traffic_never_goes_through_a_proxy(
    endpoint: tuple[str, Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fixtures.recording_proxy import proxy_environment

    url, script = endpoint
    monkeypatch.setenv("FACTORY_TEST_KEY", KEY)
    with proxy_environment(monkeypatch) as proxy:
        vectors = _fast(OpenAIEmbedder(url, "m", api_key_env="FACTORY_TEST_KEY")).embed(["a"])
        assert vectors.shape == (1, DIM)
        assert proxy.received == []
        assert script.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"
        # a remote endpoint still follows the environment's proxy (the control)
        remote = OpenAIEmbedder("http://embedder.invalid/v1", "m", allow_remote=True)
        remote.max_tries = 1
        with pytest.raises(BackendError, match="HTTP 502"):
            remote.embed(["a"])
        assert len(proxy.received) == 1
        assert b"embedder.invalid" in proxy.received[0]
