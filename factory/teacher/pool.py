"""Several servers of one local model behind one teacher: each answers one request at a time.

llama-cpp-python's server decodes one request at a time, and part of each step (sampling under
the JSON grammar) runs on one thread, so one server with 2 threads leaves a core idle. Two
servers with one thread each answered the same 36 requests 1.61x faster on 2 cores, with the
same answers (`benchmarks/teacher_servers.py`; an answer depends only on the request, see
`factory.llama_server`). The pool hands each server to one caller at a time: `lane()` holds a
server for a block of requests (a target's candidates, which then share the server's prompt
cache); a request outside a lane takes whichever server is free.

Example:
    >>> pool = TeacherPool([teacher_a, teacher_b])  # doctest: +SKIP
    >>> async with pool.lane():  # doctest: +SKIP
    ...     first = await pool.acomplete(request, client)  # both on the same server
    ...     second = await pool.acomplete(request, client)
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections import deque
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from factory.errors import ConfigError
from factory.teacher.base import ChatRequest, Completion, Messages, Teacher

__all__ = ["TeacherPool"]

_HELD: contextvars.ContextVar[tuple[TeacherPool, Teacher] | None] = contextvars.ContextVar(
    "factory_teacher_lane", default=None
)


class TeacherPool(Teacher):
    """Teachers serving the same weights (same fingerprint), one request at a time each."""

    def __init__(self, members: Sequence[Teacher]) -> None:
        if not members:
            msg = "a teacher pool needs at least one teacher; start one server or more"
            raise ConfigError(msg)
        prints = {m.fingerprint for m in members}
        if len(prints) > 1:
            msg = f"a teacher pool serves one model, got fingerprints {sorted(prints)}"
            raise ConfigError(msg)
        self.members = list(members)
        self.max_workers = len(self.members)
        self._free: asyncio.Queue[int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def lanes(self) -> int:
        """How many requests the pool answers at once."""
        return len(self.members)

    @property
    def fingerprint(self) -> str:
        """The members' shared fingerprint."""
        return self.members[0].fingerprint

    def fingerprint_info(self) -> dict[str, Any]:
        """The first member's fingerprint info, with the number of servers."""
        return {**self.members[0].fingerprint_info(), "servers": len(self.members)}

    def client_options(self) -> dict[str, Any]:
        """The first member's client options (the members share one kind of endpoint)."""
        return self.members[0].client_options()

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        """Answer one request on the first server (`complete_many` spreads a batch)."""
        return self.members[0].complete(
            messages, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed
        )

    def complete_many(self, requests: Sequence[ChatRequest]) -> list[Completion]:
        """Answer `requests` on every server at once, each taking the next request when free;
        results in request order."""
        if len(self.members) == 1 or len(requests) <= 1:
            return self.members[0].complete_many(requests)
        pending = deque(enumerate(requests))
        lock = threading.Lock()
        answers: dict[int, Completion] = {}

        def serve(member: Teacher) -> None:
            while True:
                with lock:
                    if not pending:
                        return
                    index, request = pending.popleft()
                answers[index] = member.complete(
                    request.messages,
                    temperature=request.temperature,
                    top_p=request.top_p,
                    max_tokens=request.max_tokens,
                    seed=request.seed,
                )

        with ThreadPoolExecutor(max_workers=len(self.members)) as threads:
            list(threads.map(serve, self.members))  # re-raises a member's error
        return [answers[i] for i in range(len(requests))]

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[None]:
        """Hold one free server for the requests made inside the block (nested: the same)."""
        if self._held() is not None:
            yield
            return
        index = await self._queue().get()
        token = _HELD.set((self, self.members[index]))
        try:
            yield
        finally:
            _HELD.reset(token)
            self._queue().put_nowait(index)

    async def acomplete(self, request: ChatRequest, client: Any) -> Completion:
        """Answer on the server held by the caller's lane, else on the next free server."""
        if (member := self._held()) is not None:
            return await member.acomplete(request, client)
        async with self.lane():
            member = self._held()
            assert member is not None
            return await member.acomplete(request, client)

    def _held(self) -> Teacher | None:
        """The member this pool lent to the current task's lane, if any."""
        held = _HELD.get()
        return held[1] if held is not None and held[0] is self else None

    def _queue(self) -> asyncio.Queue[int]:
        loop = asyncio.get_running_loop()
        if self._free is None or self._loop is not loop:  # a queue belongs to one event loop
            self._free = asyncio.Queue()
            for index in range(len(self.members)):
                self._free.put_nowait(index)
            self._loop = loop
        return self._free

    def __repr__(self) -> str:
        return f"TeacherPool({self.members!r})"
