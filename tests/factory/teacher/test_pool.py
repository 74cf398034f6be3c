"""`TeacherPool`: one request at a time per server, a lane keeps a block on one server."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from factory.errors import ConfigError
from factory.teacher.base import ChatRequest, Completion, Messages, Teacher
from factory.teacher.pool import TeacherPool


class _Server(Teacher):
    """Answers with its own name after a short wait; counts requests in flight."""

    def __init__(self, name: str, weights: str = "w") -> None:
        self.name, self.weights = name, weights
        self.in_flight = self.most_in_flight = 0

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        return Completion(self.name, 1, 1, "stop")

    @property
    def fingerprint(self) -> str:
        return self.weights

    def fingerprint_info(self) -> dict[str, Any]:
        return {"fingerprint": self.weights}

    async def acomplete(self, request: ChatRequest, client: Any) -> Completion:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.01)
        self.in_flight -= 1
        return Completion(self.name, 1, 1, "stop")


REQUEST = ChatRequest([{"role": "user", "content": "hi"}], 0.8, 0.95, 8, 0)


def test_a_lane_keeps_its_requests_on_one_server_and_lanes_do_not_share() -> None:
    servers = [_Server("a"), _Server("b")]
    pool = TeacherPool(servers)

    async def block() -> set[str]:
        async with pool.lane():
            answers = await asyncio.gather(*[pool.acomplete(REQUEST, None) for _ in range(3)])
        return {a.text for a in answers}

    async def main() -> list[set[str]]:
        return list(await asyncio.gather(block(), block()))

    first, second = asyncio.run(main())
    assert len(first) == len(second) == 1
    assert first | second == {"a", "b"}


def test_requests_outside_a_lane_use_every_server_one_at_a_time() -> None:
    servers = [_Server("a"), _Server("b")]
    pool = TeacherPool(servers)

    async def main() -> list[Completion]:
        return list(await asyncio.gather(*[pool.acomplete(REQUEST, None) for _ in range(10)]))

    answers = asyncio.run(main())
    assert {a.text for a in answers} == {"a", "b"}
    assert [s.most_in_flight for s in servers] == [1, 1]
    assert pool.lanes == pool.max_workers == 2
    assert pool.fingerprint_info() == {"fingerprint": "w", "servers": 2}


def test_a_pool_serves_one_model() -> None:
    with pytest.raises(ConfigError, match="one model"):
        TeacherPool([_Server("a", "w1"), _Server("b", "w2")])
    with pytest.raises(ConfigError, match="at least one"):
        TeacherPool([])


def test_a_lane_of_one_pool_does_not_steer_another() -> None:
    first, second = TeacherPool([_Server("a1")]), TeacherPool([_Server("b1")])

    async def main() -> str:
        async with first.lane():
            return (await second.acomplete(REQUEST, None)).text

    assert asyncio.run(main()) == "b1"


class _Blocking(_Server):
    """A blocking server that answers with its name and the request's seed, a little slowly."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.lock = threading.Lock()

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        assert self.lock.acquire(blocking=False), f"{self.name} got two requests at once"
        try:
            time.sleep(0.01)
            return Completion(f"{self.name}:{seed}", 1, 1, "stop")
        finally:
            self.lock.release()


def test_a_batch_of_blocking_requests_uses_every_server_in_request_order() -> None:
    pool = TeacherPool([_Blocking("a"), _Blocking("b")])
    requests = [ChatRequest(REQUEST.messages, 0.8, 0.95, 8, seed) for seed in range(12)]
    answers = pool.complete_many(requests)
    assert [a.text.split(":")[1] for a in answers] == [str(s) for s in range(12)]
    assert {a.text.split(":")[0] for a in answers} == {"a", "b"}
