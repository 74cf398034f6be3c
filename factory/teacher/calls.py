"""The one road from synthesis to a teacher: cache first, then a budgeted, bounded, retried call.

`TeacherCalls` answers a `SampleRequest` from the response cache when it can; otherwise it
reserves the call's worst-case tokens in the run's budget, sends it with at most `concurrency`
requests in flight on one shared async HTTP client, and caches the answer the moment it arrives.
A request carries the JSON schema of the sample; the response format follows
`teacher.response_format`: `auto` tries the OpenAI `json_schema` format, falls back to
`json_object` with a schema (llama.cpp, vLLM) and then to plain text with tolerant parsing, and
remembers what the server accepted in the cache so a rerun asks nothing twice.

Failures never raise: a call that fails after its retries comes back with a reason. Only a teacher
that fails `max_consecutive_failures` calls in a row stops the run (`TeacherUnreachableError`);
every answer received so far is in the cache, so the rerun resumes.

Example:
    >>> async with TeacherCalls(teacher, cache=cache, budget=TokenBudget(50_000)) as calls:
    ...     result = await calls.call(request)  # doctest: +SKIP
    >>> result.completion.text, result.cached  # doctest: +SKIP
    ('{"text": "How do I top up by cheque?"}', False)
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from factory.errors import BackendError, ConfigError
from factory.http_api import UnsupportedRequestError
from factory.teacher.base import ChatRequest, Completion, Messages, Teacher
from factory.teacher.budget import TokenBudget, estimate_tokens
from factory.teacher.cache import ResponseCache, cache_key

__all__ = [
    "RESPONSE_FORMATS",
    "CallResult",
    "CallStats",
    "SampleRequest",
    "TeacherCalls",
    "TeacherUnreachableError",
    "learned_response_format",
    "prompt_estimate",
    "request_key",
    "response_format_field",
]

ResponseFormat = Literal["auto", "json_schema", "json_object", "none"]
RESPONSE_FORMATS: tuple[str, ...] = ("auto", "json_schema", "json_object", "none")
_FALLBACK = {"json_schema": "json_object", "json_object": "none"}
_TOKENS_PER_MESSAGE = 8


class TeacherUnreachableError(BackendError):
    """The teacher failed too many calls in a row; the run stops (the cache keeps its answers)."""


@dataclass(frozen=True)
class SampleRequest:
    """One teacher call of synthesis: messages, sampling parameters, seed and the answer schema."""

    messages: Messages
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    schema: dict[str, Any] | None = None


@dataclass(frozen=True)
class CallResult:
    """A call's answer (`completion`), or why there is none (`error`; `over_budget` at the cap)."""

    completion: Completion | None
    cached: bool = False
    error: str | None = None
    over_budget: bool = False


@dataclass
class CallStats:
    """What the calls of one run cost and how they went."""

    sent: int = 0
    cache_hits: int = 0
    failed: int = 0
    over_budget: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    format_changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data summary."""
        return {
            "calls": self.sent,
            "cache_hits": self.cache_hits,
            "failed_calls": self.failed,
            "over_budget_calls": self.over_budget,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "call_failures": dict(sorted(self.failures.items())),
            "response_format_changes": list(self.format_changes),
        }


def request_key(teacher_fingerprint: str, mode: str, request: SampleRequest) -> str:
    """The cache key of `request` sent to a teacher under response-format `mode`."""
    params = {
        "temperature": request.temperature,
        "top_p": request.top_p,
        "max_tokens": request.max_tokens,
        "response_format": mode if request.schema is not None else "none",
        "schema": request.schema,
    }
    return cache_key(teacher_fingerprint, request.messages, params, request.seed)


def prompt_estimate(messages: Messages, count: Callable[[str], int] = estimate_tokens) -> int:
    """Prompt tokens of `messages` by `count`, plus a few per message for the chat template."""
    return sum(count(m["content"]) + _TOKENS_PER_MESSAGE for m in messages)


def learned_response_format(cache: ResponseCache | None, teacher_fingerprint: str) -> str | None:
    """The response format a teacher's server accepted in an earlier run, if the cache knows."""
    return cache.fact(f"response_format:{teacher_fingerprint}") if cache is not None else None


def response_format_field(mode: str, schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The OpenAI `response_format` request field for `mode` and a JSON schema."""
    if schema is None or mode == "none":
        return None
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "sample", "schema": schema}}
    return {"type": "json_object", "schema": schema}


class TeacherCalls:
    """Cached, budgeted, concurrent calls to one teacher; use as an async context manager."""

    def __init__(
        self,
        teacher: Teacher,
        *,
        cache: ResponseCache | None = None,
        budget: TokenBudget | None = None,
        concurrency: int = 4,
        response_format: str = "auto",
        max_consecutive_failures: int = 10,
    ) -> None:
        if response_format not in RESPONSE_FORMATS:
            msg = (
                f"teacher.response_format {response_format!r} is unknown; expected one of "
                f"{list(RESPONSE_FORMATS)}"
            )
            raise ConfigError(msg)
        self.teacher = teacher
        self.cache = cache
        self.budget = budget or TokenBudget()
        self.concurrency = max(1, int(concurrency))
        self.requested_format = response_format
        self.max_consecutive_failures = max_consecutive_failures
        self.stats = CallStats()
        self.fingerprint = teacher.fingerprint
        self._fact_key = f"response_format:{self.fingerprint}"
        learned = learned_response_format(cache, self.fingerprint)
        if response_format == "auto":
            self.mode = learned if learned in _FALLBACK or learned == "none" else "json_schema"
        else:
            self.mode = response_format
        self._lock = threading.Lock()
        self._consecutive_failures = 0
        self._semaphore: asyncio.Semaphore | None = None
        self._client: Any = None

    async def __aenter__(self) -> Self:
        import httpx

        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        # the teacher's own client options: a loopback teacher never goes through a proxy
        self._client = httpx.AsyncClient(limits=limits, **self.teacher.client_options())
        self._semaphore = asyncio.Semaphore(self.concurrency)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def key(self, request: SampleRequest, mode: str | None = None) -> str:
        """The cache key of `request` under response-format `mode` (default: the current one)."""
        return request_key(self.fingerprint, mode or self.mode, request)

    def estimate(self, request: SampleRequest) -> int:
        """Worst-case tokens of `request`: estimated prompt plus `max_tokens`."""
        return prompt_estimate(request.messages) + request.max_tokens

    async def call(self, request: SampleRequest) -> CallResult:
        """The answer to `request`: from the cache, or from the teacher within the budget."""
        if self._semaphore is None:
            msg = "TeacherCalls.call needs `async with TeacherCalls(...)` around it"
            raise RuntimeError(msg)
        while True:
            mode = self.mode
            key = self.key(request, mode)
            if self.cache is not None and (hit := self.cache.get(key)) is not None:
                self.stats.cache_hits += 1
                return CallResult(hit, cached=True)
            worst = self.estimate(request)
            if not self.budget.reserve(worst):
                self.stats.over_budget += 1
                return CallResult(None, error="token budget reached", over_budget=True)
            chat = ChatRequest(
                request.messages,
                request.temperature,
                request.top_p,
                request.max_tokens,
                request.seed,
                response_format_field(mode, request.schema),
            )
            try:
                async with self._semaphore:
                    completion = await self.teacher.acomplete(chat, self._client)
            except UnsupportedRequestError as exc:
                self.budget.release(worst)
                self._downgrade(mode, exc)
                continue
            except BackendError as exc:
                self.budget.release(worst)
                return self._failed(exc)
            self.budget.settle(worst, completion.prompt_tokens, completion.completion_tokens)
            self._record(completion)
            if self.cache is not None:
                self.cache.put(key, self.fingerprint, completion)
            return CallResult(completion)

    def _record(self, completion: Completion) -> None:
        with self._lock:
            self._consecutive_failures = 0
            self.stats.sent += 1
            self.stats.prompt_tokens += completion.prompt_tokens
            self.stats.completion_tokens += completion.completion_tokens

    def _failed(self, exc: BackendError) -> CallResult:
        reason = str(exc).split(";")[0]
        with self._lock:
            self.stats.failed += 1
            self.stats.failures[_failure_kind(reason)] += 1
            self._consecutive_failures += 1
            give_up = self._consecutive_failures >= self.max_consecutive_failures
        if give_up:
            msg = (
                f"the teacher failed {self._consecutive_failures} calls in a row, last: {reason}; "
                "answers received so far are cached, so rerun once the server is healthy"
            )
            raise TeacherUnreachableError(msg) from exc
        return CallResult(None, error=f"teacher call failed: {reason}")

    def _downgrade(self, tried: str, exc: UnsupportedRequestError) -> None:
        with self._lock:
            if self.mode != tried:
                return  # another call already moved on
            if self.requested_format != "auto" or tried not in _FALLBACK:
                msg = (
                    f"the teacher refuses response_format {tried!r} ({exc}); set "
                    "teacher.response_format to auto, or to none for plain-text answers"
                )
                raise ConfigError(msg) from exc
            self.mode = _FALLBACK[tried]
            self.stats.format_changes.append(f"{tried} -> {self.mode}")
            if self.cache is not None:
                self.cache.set_fact(self._fact_key, self.mode)

    def run(self, requests: list[SampleRequest]) -> list[CallResult]:
        """Answer `requests` concurrently from synchronous code; results in request order."""

        async def main() -> list[CallResult]:
            async with self:
                return list(await asyncio.gather(*(self.call(r) for r in requests)))

        return asyncio.run(main())

    def __repr__(self) -> str:
        return (
            f"TeacherCalls(teacher={self.teacher!r}, concurrency={self.concurrency}, "
            f"response_format={self.mode!r}, cache={self.cache!r})"
        )


def _failure_kind(reason: str) -> str:
    """A short, countable name for a call failure."""
    for marker, kind in (
        ("HTTP 4", "http 4xx"),
        ("HTTP 5", "http 5xx"),
        ("Timeout", "timeout"),
        ("non-JSON", "malformed body"),
        ("without choices", "malformed body"),
        ("failed after", "transport error"),
    ):
        if marker in reason:
            return kind
    return "other"
