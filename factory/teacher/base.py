"""The teacher backend: one abstract chat method, a concurrent convenience on the base.

Example:
    >>> done = teacher.complete(  # doctest: +SKIP
    ...     [{"role": "user", "content": "Say hi"}], temperature=0.8, top_p=0.95,
    ...     max_tokens=16, seed=7)
    >>> done.finish_reason  # doctest: +SKIP
    'stop'
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

__all__ = ["ChatRequest", "Completion", "Messages", "Teacher"]

Messages = list[dict[str, str]]
"""Chat messages: dicts with `role` (system, user, assistant) and `content`."""


@dataclass(frozen=True)
class Completion:
    """One answer of the teacher, with its token counts."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    system_fingerprint: str | None = None


@dataclass(frozen=True)
class ChatRequest:
    """Everything one `Teacher.complete` call needs; `response_format` is the OpenAI field."""

    messages: Messages
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    response_format: dict[str, Any] | None = None


class Teacher(ABC):
    """A chat LLM that writes samples; every backend speaks one request at a time."""

    max_workers: int = 1
    """Requests in flight at once in `complete_many` (a small fixed thread pool)."""

    @abstractmethod
    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        """Answer one chat request; raises `BackendError` when the backend fails."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Content-derived id of the model behind the teacher."""

    @abstractmethod
    def fingerprint_info(self) -> dict[str, Any]:
        """What the fingerprint is made of: kind, model, endpoint, weights hash or unverifiable."""

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for the `httpx.AsyncClient` shared by `acomplete` calls (HTTP
        backends: no proxy for a loopback endpoint); none by default."""
        return {}

    async def acomplete(self, request: ChatRequest, client: Any) -> Completion:
        """Answer one request without blocking the event loop; `client` is an
        `httpx.AsyncClient` that HTTP backends share (others run `complete` in a thread and
        ignore `response_format`)."""
        del client
        return await asyncio.to_thread(
            self.complete,
            request.messages,
            temperature=request.temperature,
            top_p=request.top_p,
            max_tokens=request.max_tokens,
            seed=request.seed,
        )

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer `requests` with up to `max_workers` in flight; results in request order."""

        def one(req: ChatRequest) -> Completion:
            return self.complete(
                req.messages,
                temperature=req.temperature,
                top_p=req.top_p,
                max_tokens=req.max_tokens,
                seed=req.seed,
            )

        if self.max_workers <= 1 or len(requests) <= 1:
            return [one(req) for req in requests]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(requests))) as pool:
            return list(pool.map(one, requests))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
