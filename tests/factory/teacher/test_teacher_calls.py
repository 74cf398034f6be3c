"""TeacherCalls: response-format negotiation, async retries, the cache, the cap, concurrency."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from factory.errors import ConfigError
from factory.teacher import ChatRequest, Completion, Teacher
from factory.teacher.budget import Prices, TokenBudget
from factory.teacher.cache import ResponseCache
from factory.teacher.calls import SampleRequest, TeacherCalls, TeacherUnreachableError
from tests.fixtures.teacher_scripted import Scripted, chat_answer, fast_teacher

SCHEMA = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
REFUSED = {"error": {"message": "body.response_format.type: Input should be 'text'"}}


def _request(seed: int = 1, schema: dict[str, Any] | None = SCHEMA) -> SampleRequest:
    messages = [{"role": "user", "content": "Write one banking question."}]
    return SampleRequest(messages, 0.8, 0.95, 16, seed, schema)


def _formats(script: Scripted) -> list[Any]:
    bodies = [r["body"] for r in script.requests if r["method"] == "POST"]
    return [(b.get("response_format") or {}).get("type") for b in bodies]


def test_auto_falls_back_from_json_schema_and_remembers_it(
    scripted: Callable[..., tuple[str, Scripted]], tmp_path: Path
) -> None:
    def answer(body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        if (body.get("response_format") or {}).get("type") == "json_schema":
            return 500, {}, REFUSED
        return 200, {}, chat_answer('{"text": "hi"}')

    url, script = scripted(default=answer)
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        calls = TeacherCalls(fast_teacher(url, weights_path=None), cache=cache)
        (result,) = calls.run([_request(1)])
        assert result.completion is not None
        assert result.completion.text == '{"text": "hi"}'
        assert calls.mode == "json_object"
        assert calls.stats.format_changes == ["json_schema -> json_object"]
        assert _formats(script)[-2:] == ["json_schema", "json_object"]
        body = script.requests[-1]["body"]
        assert body["response_format"]["schema"] == SCHEMA
        again = TeacherCalls(fast_teacher(url), cache=cache)
        assert again.mode == "json_object"
        (cached,) = again.run([_request(1)])
        (fresh,) = again.run([_request(2)])
    assert cached.cached
    assert not fresh.cached
    assert _formats(script)[-1] == "json_object"  # no second refusal
    assert again.stats.sent == 1
    assert again.stats.cache_hits == 1


def test_a_chosen_format_the_server_refuses_is_a_config_error(
    scripted: Callable[..., tuple[str, Scripted]],
) -> None:
    def answer(body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        return (500, {}, REFUSED) if "response_format" in body else (200, {}, chat_answer("pong"))

    url, _ = scripted(default=answer)
    calls = TeacherCalls(fast_teacher(url), response_format="json_schema")
    with pytest.raises(ConfigError, match=r"set teacher\.response_format to auto"):
        calls.run([_request()])


def test_retry_after_and_cut_off_bodies_are_retried(
    scripted: Callable[..., tuple[str, Scripted]], tmp_path: Path
) -> None:
    weights = tmp_path / "weights.gguf"
    weights.write_bytes(b"weights")
    replies = [(429, {"Retry-After": "0.2"}, {"error": "slow down"}), (200, {}, b'{"choi')]
    url, script = scripted(replies=replies, default=lambda body: (200, {}, chat_answer("ok")))
    calls = TeacherCalls(fast_teacher(url, weights_path=weights), response_format="none")
    (result,) = calls.run([_request(schema=None)])
    assert result.completion is not None
    assert result.completion.text == "ok"
    posts = [r for r in script.requests if r["method"] == "POST"]
    assert len(posts) == 3
    assert posts[1]["t"] - posts[0]["t"] >= 0.19


def test_a_failed_call_is_a_reason_and_a_dead_teacher_stops_the_run(
    scripted: Callable[..., tuple[str, Scripted]], tmp_path: Path
) -> None:
    url, _ = scripted(default=lambda body: (503, {}, {"error": "down"}), max_requests=100)
    (tmp_path / "w.gguf").write_bytes(b"w")
    teacher = fast_teacher(url, weights_path=tmp_path / "w.gguf")
    teacher.max_tries = 2
    calls = TeacherCalls(teacher, response_format="none", max_consecutive_failures=3)
    first = calls.run([_request(1, None), _request(2, None)])
    assert all(r.completion is None and "HTTP 503" in (r.error or "") for r in first)
    assert calls.stats.failures == {"http 5xx": 2}
    with pytest.raises(TeacherUnreachableError, match="3 calls in a row"):
        calls.run([_request(3, None)])


class _Slow(Teacher):
    """Counts requests in flight; answers after a short sleep."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.most = 0

    async def acomplete(self, request: ChatRequest, client: Any) -> Completion:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0.02)
        self.in_flight -= 1
        return Completion(json.dumps({"seed": request.seed}), 10, 5, "stop")

    def complete(self, *args: Any, **kwargs: Any) -> Completion:
        raise NotImplementedError

    @property
    def fingerprint(self) -> str:
        return "slow"

    def fingerprint_info(self) -> dict[str, Any]:
        return {"fingerprint": "slow"}


def test_concurrency_is_bounded_and_every_answer_is_cached_as_it_arrives(tmp_path: Path) -> None:
    teacher = _Slow()
    with ResponseCache(tmp_path / "c.sqlite") as cache:
        calls = TeacherCalls(teacher, cache=cache, concurrency=3)
        results = calls.run([_request(seed) for seed in range(12)])
        assert teacher.most == 3
        assert [json.loads(r.completion.text)["seed"] for r in results if r.completion] == list(
            range(12)
        )
        assert len(cache) == 12
        assert calls.stats.prompt_tokens == 120
        assert calls.stats.completion_tokens == 60


def test_the_budget_refuses_calls_past_the_cap_and_counts_cost() -> None:
    budget = TokenBudget(max_tokens=120, prices=Prices(1_000_000.0, 2_000_000.0))
    calls = TeacherCalls(_Slow(), budget=budget, concurrency=1)
    results = calls.run([_request(seed) for seed in range(5)])
    served = [r for r in results if r.completion is not None]
    refused = [r for r in results if r.over_budget]
    assert served
    assert refused
    assert len(served) + len(refused) == 5
    assert budget.spent_tokens <= 120
    assert budget.cost == pytest.approx(budget.prompt_tokens * 1.0 + budget.completion_tokens * 2.0)
    assert "of 120 tokens" in budget.describe()


def test_unknown_response_format_is_named() -> None:
    with pytest.raises(ConfigError, match="'xml' is unknown"):
        TeacherCalls(_Slow(), response_format="xml")
