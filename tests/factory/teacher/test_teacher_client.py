"""The OpenAI-compatible chat teacher: loopback rule, secrets, retries, parsing, fingerprints."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import pytest

from factory.config import TeacherConfig
from factory.errors import BackendError, ConfigError, RemoteNotAllowedError
from factory.hashing import fingerprint, hash_file
from factory.teacher import (
    ChatRequest,
    Completion,
    OpenAIChatTeacher,
    Teacher,
    openai_chat,
    start_teacher,
    weights_hash,
)
from factory.teacher.openai_chat import WEIGHTS_UNVERIFIABLE
from tests.fixtures.network import free_port
from tests.fixtures.teacher_scripted import chat_answer, fast_teacher

KEY = "sk-teacher-test-0123456789-never-print-me"
MSGS = [{"role": "user", "content": "Say hi"}]


def test_complete_sends_the_request_and_parses_the_answer(scripted: Any) -> None:
    url, script = scripted()
    done = fast_teacher(url).complete(MSGS, temperature=0.7, top_p=0.9, max_tokens=12, seed=42)
    assert done == Completion("hello", 11, 3, "stop", "fp-1")
    body = script.requests[0]["body"]
    assert script.requests[0]["path"] == "/v1/chat/completions"
    assert body["model"] == "m"
    assert body["messages"] == MSGS
    assert (body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        0.7,
        0.9,
        12,
        42,
    )


def test_retry_after_is_honoured(scripted: Any) -> None:
    url, script = scripted(
        replies=[
            (429, {"Retry-After": "0.4"}, {"error": "slow down"}),
            (503, {"Retry-After": "0.3"}, {}),
        ]
    )
    teacher = fast_teacher(url)
    teacher.backoff_s = 5.0  # a backoff wait would be >= 2.5 s: short gaps prove Retry-After won
    done = teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    assert done.text == "hello"
    times = [r["t"] for r in script.requests]
    assert len(times) == 3
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert 0.38 <= gaps[0] < 2.0
    assert 0.28 <= gaps[1] < 2.0


def test_stops_after_max_tries(scripted: Any) -> None:
    url, script = scripted(default=lambda body: (503, {"Retry-After": "0"}, {"error": "down"}))
    teacher = fast_teacher(url)
    teacher.max_tries = 3
    with pytest.raises(BackendError, match=r"HTTP 503 after 3 tries") as info:
        teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    assert len(script.requests) == 3
    assert "server log" in str(info.value)


def test_client_errors_are_not_retried(scripted: Any) -> None:
    url, script = scripted(default=lambda body: (400, {}, {"error": "context too long"}))
    with pytest.raises(BackendError, match=r"HTTP 400 after 1 tries: .*context too long"):
        fast_teacher(url).complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    assert len(script.requests) == 1


def test_unreachable_server_fails_after_the_tries() -> None:
    teacher = fast_teacher(f"http://127.0.0.1:{free_port()}/v1", timeout_s=2.0)
    teacher.max_tries = 2
    with pytest.raises(BackendError, match=r"failed after 2 tries.*is the server running"):
        teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)


def test_malformed_answer_is_a_backend_error(scripted: Any) -> None:
    url, _ = scripted(default=lambda body: (200, {}, {"data": []}))
    with pytest.raises(BackendError, match="without choices"):
        fast_teacher(url).complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)


def test_backoff_is_jittered_capped_and_reads_http_dates() -> None:
    teacher = OpenAIChatTeacher("http://127.0.0.1:9/v1", "m")
    teacher.backoff_s, teacher.max_wait_s = 1.0, 3.0
    waits = [teacher.retry_wait(2, None) for _ in range(50)]
    assert all(1.0 <= w <= 3.0 for w in waits)
    assert len(set(waits)) > 1
    assert teacher.retry_wait(10, None) == 3.0
    assert teacher.retry_wait(1, "120") == 3.0
    assert teacher.retry_wait(1, "0.25") == 0.25
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    assert 0.5 < teacher.retry_wait(1, date) <= 3.0
    assert 0.5 <= teacher.retry_wait(1, "not a date") <= 1.5


@pytest.mark.parametrize("url", ["https://api.example.com/v1", "http://10.0.0.5:8000/v1"])
def test_remote_endpoint_refused_without_allow_remote(url: str) -> None:
    with pytest.raises(RemoteNotAllowedError, match=r"under `teacher:`"):
        OpenAIChatTeacher(url, "gpt")
    assert OpenAIChatTeacher(url, "gpt", allow_remote=True).endpoint.startswith("http")


def test_invalid_url_names_the_teacher_key() -> None:
    with pytest.raises(ConfigError, match=r"teacher\.base_url"):
        OpenAIChatTeacher("ftp://127.0.0.1/v1", "m")


def test_api_key_is_sent_but_never_shown(scripted: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_KEY", KEY)
    url, script = scripted(
        replies=[(200, {}, {"data": [{"id": "m"}]}), (200, {}, chat_answer("x"))],
        default=lambda body: (401, {}, {"error": f"bad key {KEY}"}),
    )
    teacher = fast_teacher(url, api_key_env="TEACHER_KEY")
    info = teacher.fingerprint_info()
    assert script.requests[1]["headers"]["Authorization"] == f"Bearer {KEY}"
    with pytest.raises(BackendError) as err:
        teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    for shown in (repr(teacher), json.dumps(info), teacher.fingerprint, str(err.value)):
        assert KEY not in shown
    assert "***" in str(err.value)


def test_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_TEACHER_KEY", raising=False)
    teacher = OpenAIChatTeacher("http://127.0.0.1:9/v1", "m", api_key_env="NO_SUCH_TEACHER_KEY")
    with pytest.raises(BackendError, match="NO_SUCH_TEACHER_KEY"):
        teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)


def test_fingerprint_of_local_weights_is_cached_per_file_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"weights v1")
    calls: list[Path] = []

    def counting(path: Path) -> str:
        calls.append(path)
        return hash_file(path)

    monkeypatch.setattr(openai_chat, "hash_file", counting)
    a = OpenAIChatTeacher("http://127.0.0.1:9/v1", "m", weights_path=weights)
    b = OpenAIChatTeacher("http://127.0.0.1:9/v1", "m", weights_path=weights)
    assert a.fingerprint == b.fingerprint == fingerprint("chat", "m", hash_file(weights))
    assert len(calls) == 1
    info = a.fingerprint_info()
    assert info["weights"] == f"sha256:{hash_file(weights)}"
    assert info["weights_verifiable"] is True
    weights.write_bytes(b"weights v2, longer")
    c = OpenAIChatTeacher("http://127.0.0.1:9/v1", "m", weights_path=weights)
    assert c.fingerprint != a.fingerprint
    assert len(calls) == 2
    assert weights_hash(weights) == hash_file(weights)


def test_fingerprint_of_a_server_is_marked_unverifiable(scripted: Any) -> None:
    models = (200, {}, {"data": [{"id": "m", "object": "model", "owned_by": "me"}]})
    url, script = scripted(replies=[models, (200, {}, chat_answer("p", fp="fp-A"))])
    first = fast_teacher(url).fingerprint_info()
    assert first["weights"] == WEIGHTS_UNVERIFIABLE
    assert first["weights_verifiable"] is False
    assert first["system_fingerprint"] == "fp-A"
    assert first["server_model"] == {"id": "m", "object": "model", "owned_by": "me"}
    assert [r["path"] for r in script.requests] == ["/v1/models", "/v1/chat/completions"]
    url2, _ = scripted(replies=[models, (200, {}, chat_answer("p", fp="fp-B"))])
    second = fast_teacher(url2).fingerprint_info()
    assert second["fingerprint"] != first["fingerprint"]


class _SlowEcho(Teacher):
    """A fake teacher whose answer time varies; answers carry their seed."""

    max_workers = 4

    def complete(
        self, messages: Any, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        time.sleep(0.01 * (seed % 3))
        return Completion(f"seed {seed}", 1, 1, "stop")

    @property
    def fingerprint(self) -> str:
        return "slow-echo"

    def fingerprint_info(self) -> dict[str, Any]:
        return {"kind": "fake", "fingerprint": self.fingerprint}


def test_complete_many_keeps_request_order() -> None:
    reqs = [ChatRequest(MSGS, 0.5, 0.9, 8, seed) for seed in range(12)]
    assert [c.text for c in _SlowEcho().complete_many(reqs)] == [f"seed {s}" for s in range(12)]


def test_openai_backend_needs_base_url(tmp_path: Path) -> None:
    with (
        pytest.raises(ConfigError, match=r"teacher\.base_url"),
        start_teacher(TeacherConfig(backend="openai"), tmp_path),
    ):
        pass
    cfg = TeacherConfig(backend="openai", base_url="http://127.0.0.1:8000/v1", model="qwen")
    with start_teacher(cfg, tmp_path) as teacher:
        assert isinstance(teacher, OpenAIChatTeacher)
        assert (teacher.endpoint, teacher.model) == ("http://127.0.0.1:8000/v1", "qwen")
    remote = cfg.model_copy(update={"base_url": "https://api.example.com/v1"})
    with pytest.raises(RemoteNotAllowedError), start_teacher(remote, tmp_path):
        pass


PASSWORD = "Pl4ntedUserinfoPw"
QUERY_KEY = "Pl4ntedQueryKey77"


def test_url_credentials_are_sent_but_never_shown(scripted: Any) -> None:
    url, script = scripted(default=lambda body: (401, {}, {"error": f"no {PASSWORD} {QUERY_KEY}"}))
    scheme, rest = url.split("://")
    teacher = fast_teacher(f"{scheme}://planted:{PASSWORD}@{rest}?api_key={QUERY_KEY}")
    with pytest.raises(BackendError) as err:
        teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    assert script.requests[0]["path"] == f"/v1/chat/completions?api_key={QUERY_KEY}"
    assert script.requests[0]["headers"]["Authorization"].startswith("Basic ")
    for shown in (repr(teacher), teacher.base_url, teacher.endpoint, str(err.value)):
        assert PASSWORD not in shown
        assert QUERY_KEY not in shown


def test_a_pasted_key_is_no_variable_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"teacher\.api_key_env must be the NAME") as info:
        OpenAIChatTeacher("http://127.0.0.1:9/v1", "m", api_key_env=KEY)
    assert KEY not in str(info.value)


def test_loopback_traffic_never_goes_through_a_proxy(
    scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    import httpx

    from tests.fixtures.recording_proxy import proxy_environment

    monkeypatch.setenv("TEACHER_KEY", KEY)
    url, script = scripted()
    teacher = fast_teacher(url, api_key_env="TEACHER_KEY")

    async def shared_client_call() -> Completion:
        async with httpx.AsyncClient() as client:  # trusts the environment, as callers' may
            return await teacher.acomplete(ChatRequest(MSGS, 0.0, 1.0, 8, 0), client)

    with proxy_environment(monkeypatch) as proxy:
        assert teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0).text
        assert asyncio.run(shared_client_call()).text == "hello"
        assert proxy.received == []
        assert [r["headers"]["Authorization"] for r in script.requests] == [f"Bearer {KEY}"] * 2
        # a remote endpoint still follows the environment's proxy (the control)
        remote = fast_teacher("http://teacher.invalid/v1", allow_remote=True)
        remote.max_tries = 1
        with pytest.raises(BackendError, match="HTTP 502"):
            remote.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
        assert len(proxy.received) == 1
        assert b"teacher.invalid" in proxy.received[0]


def test_a_named_key_wins_over_url_credentials(
    scripted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEACHER_KEY", KEY)
    url, script = scripted()
    scheme, rest = url.split("://")
    teacher = fast_teacher(f"{scheme}://planted:{PASSWORD}@{rest}", api_key_env="TEACHER_KEY")
    teacher.complete(MSGS, temperature=0.0, top_p=1.0, max_tokens=8, seed=0)
    assert script.requests[0]["headers"]["Authorization"] == f"Bearer {KEY}"
