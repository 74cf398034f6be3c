"""Run a synthesis plan: every target realized through one cached, budgeted teacher client.

Targets are taken in curriculum order by `synthesis.concurrency` workers; each target's requests
go through `TeacherCalls`, so at most `concurrency` requests are in flight, every answer is
cached the moment it arrives, and the token cap stops the run cleanly: targets it leaves
untouched become `not attempted: token budget reached` rejects, and a rerun with a larger cap
(or none) picks them up while every answer already paid for comes from the cache. Seeds derive
from the target, so a resumed or fault-ridden run ends with the same samples as a clean one.

Example:
    >>> result = synthesize(plan, train, embedder, teacher, SynthesisConfig(),  # doctest: +SKIP
    ...     TeacherConfig(), task_kind="classification", run_id="r1", cache=cache)
    >>> result.stats["stopped"]  # doctest: +SKIP
    None
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

import numpy as np

from factory.config import FactoryConfig, SynthesisConfig, TeacherConfig
from factory.embedding.base import Embedder
from factory.errors import FactoryError
from factory.home import Home
from factory.synthesis.plan import PlannedTarget
from factory.synthesis.prompts import prompt_template_hash
from factory.synthesis.realize import (
    RunContext,
    SynthesisResult,
    SynthesisStats,
    realize_target,
    reject_row,
    result_frames,
)
from factory.synthesis.train_set import TrainSet
from factory.synthesis.verify import shared_verifier
from factory.teacher.base import Teacher
from factory.teacher.budget import Prices, TokenBudget
from factory.teacher.cache import ResponseCache
from factory.teacher.calls import TeacherCalls
from factory.teacher.pool import TeacherPool

__all__ = ["make_budget", "run_coroutine", "synthesis_params", "synthesize", "synthesize_cached"]

_LOG = logging.getLogger(__name__)
T = TypeVar("T")
Progress = Callable[[int, int], None]
Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def make_budget(config: SynthesisConfig, teacher: TeacherConfig) -> TokenBudget:
    """The run's token budget from `synthesis.max_run_tokens` / `max_run_cost` and prices."""
    prices = Prices(teacher.prompt_price_per_million, teacher.completion_price_per_million)
    return TokenBudget(config.max_run_tokens, config.max_run_cost, prices)


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, also from code that already runs inside an event loop (in a thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="factory-synthesis")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _answer_vectors(
    targets: list[PlannedTarget], train: TrainSet, embedder: Embedder
) -> dict[str, np.ndarray]:
    rows = train.row_of()
    ids = sorted({d for t in targets for d in t.parent_doc_ids if train.answers[rows[d]]})
    if not ids:
        return {}
    vectors = embedder.embed([str(train.answers[rows[d]]) for d in ids])
    return {d: vectors[i] for i, d in enumerate(ids)}


def synthesize(
    targets: list[PlannedTarget],
    train: TrainSet,
    embedder: Embedder,
    teacher: Teacher | None,
    config: SynthesisConfig,
    teacher_config: TeacherConfig,
    task_kind: str,
    run_id: str,
    cache: ResponseCache | None = None,
    budget: TokenBudget | None = None,
    progress: Progress | None = None,
    group_candidates: bool | None = None,
) -> SynthesisResult:
    """Realize every target of the plan; returns samples, their vectors, rejects and stats.

    `group_candidates` sends a target's candidates back to back (None: when the teacher is the
    local llama.cpp server and a target has several candidates), so the server's prompt cache
    evaluates their shared prompt once; answers are the same either way."""
    if targets and teacher is None:
        msg = f"{len(targets)} targets need a teacher; pass one (None only for an empty plan)"
        raise FactoryError(msg)
    budget = budget or make_budget(config, teacher_config)
    verifier = None
    if task_kind == "classification" and targets:
        verifier = shared_verifier(train.vectors, train.labels, seed=config.seed)
    answers = _answer_vectors(targets, train, embedder) if task_kind == "qa" else {}
    stats = SynthesisStats()
    calls: TeacherCalls | None = None
    if targets and teacher is not None:
        calls = TeacherCalls(
            teacher,
            cache=cache,
            budget=budget,
            concurrency=config.concurrency,
            response_format=teacher_config.response_format,
        )
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="factory-embed")

    async def embed(texts: list[str]) -> np.ndarray:
        return await asyncio.get_running_loop().run_in_executor(pool, embedder.embed, texts)

    run = RunContext(
        kind=task_kind,
        run_id=run_id,
        teacher_fingerprint=calls.fingerprint if calls else "",
        teacher=teacher_config,
        synthesis=config,
        train=train,
        embed=embed,
        template_hash=prompt_template_hash(task_kind, config.realization),
        verifier=verifier,
        answer_vectors=answers,
        prompt_group=_prompt_group(teacher, group_candidates, config, teacher_config),
    )
    rows: Rows = ([], [])
    try:
        if calls is not None:
            rows = run_coroutine(_realize_all(targets, run, calls, stats, progress))
    finally:
        pool.shutdown(wait=True)
    sample_frame, reject_frame, vectors = result_frames(*rows, train.vectors.shape[1])
    summary = _summary(stats, calls, budget, len(targets))
    return SynthesisResult(sample_frame, reject_frame, summary, vectors)


def _prompt_group(
    teacher: Teacher | None,
    group: bool | None,
    config: SynthesisConfig,
    teacher_config: TeacherConfig,
) -> Callable[[], AbstractAsyncContextManager[Any]] | None:
    """What a target's candidates hold while asked: a server of a pool, else one lock; None
    when candidates are not grouped."""
    if group is None:
        group = teacher_config.backend == "llama-cpp" and config.candidates_per_target > 1
    if not group:
        return None
    if isinstance(teacher, TeacherPool):
        return teacher.lane
    lock = asyncio.Lock()
    return lambda: lock


def synthesis_params(config: FactoryConfig) -> dict[str, Any]:
    """The settings a project's synthesis run depends on: synthesis, teacher (without the name
    of its key's variable; its `base_url` without credentials, as every dump of the config gives
    it) and checks settings, and the prompt template's hash."""
    return {
        "synthesis": config.synthesis.model_dump(mode="json"),
        "teacher": config.teacher.model_dump(mode="json", exclude={"api_key_env"}),
        "checks": config.checks.model_dump(mode="json"),
        "prompt_template_hash": prompt_template_hash(
            config.task.kind, config.synthesis.realization
        ),
    }


def synthesize_cached(
    targets: list[PlannedTarget],
    train: TrainSet,
    embedder: Embedder,
    teacher: Teacher | None,
    config: FactoryConfig,
    run_id: str,
    progress: Progress | None = None,
) -> SynthesisResult:
    """`synthesize` with project `config`'s settings, through its teacher response cache
    (when `synthesis.cache` is on), opened for the run and closed after it, even on error."""
    cache = ResponseCache(Home.of(config).teacher_cache) if config.synthesis.cache else None
    try:
        return synthesize(
            targets,
            train,
            embedder,
            teacher,
            config.synthesis,
            config.teacher,
            config.task.kind,
            run_id,
            cache=cache,
            progress=progress,
        )
    finally:
        if cache is not None:
            cache.close()


async def _realize_all(
    targets: list[PlannedTarget],
    run: RunContext,
    calls: TeacherCalls,
    stats: SynthesisStats,
    progress: Progress | None,
) -> Rows:
    """Realize `targets` in order with `synthesis.concurrency` workers: (samples, rejects)."""
    samples: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    queue = list(targets)
    done = 0

    async def worker() -> None:
        nonlocal done
        while queue:
            target = queue.pop(0)
            if calls.budget.exhausted:
                reason = f"not attempted: token budget reached ({calls.budget.describe()})"
                rejects.append(reject_row(target, run, reason, 0, 0, stats))
            else:
                row, reject = await realize_target(target, run, calls, stats)
                samples.extend([row] if row else [])
                rejects.extend([reject] if reject else [])
            done += 1
            if progress is not None:
                progress(done, len(targets))

    async with calls:
        await asyncio.gather(*(worker() for _ in range(min(calls.concurrency, len(targets)))))
    return samples, rejects


def _summary(
    stats: SynthesisStats, calls: TeacherCalls | None, budget: TokenBudget, targets: int
) -> dict[str, Any]:
    stopped = None
    if budget.exhausted:
        stopped = f"token budget reached: {budget.describe()}"
        _LOG.warning("synthesis stopped early: %s", stopped)
    summary = {**stats.as_dict(), **(calls.stats.as_dict() if calls else {})}
    accepted = summary["accepted"]
    summary.update(
        targets=targets,
        stopped=stopped,
        budget=budget.describe(),
        cost=budget.cost if budget.prices.configured else None,
        calls_per_accepted=(summary.get("calls", 0) / accepted) if accepted else None,
        response_format=calls.mode if calls else None,
        teacher_fingerprint=calls.fingerprint if calls else "",
    )
    return summary
