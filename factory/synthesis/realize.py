"""Realize one planned target as text: best of n per round, re-embedded, corrected, verified.

Shared by every technique. Round 0 asks the teacher `candidates_per_target` times for a sample
like the target's parents; every valid candidate is re-embedded and the closest to the target is
the best attempt. Each correction round shows the teacher that attempt with its similarity and
asks for a closer one, until the best attempt is as close to the target as the nearest real
example (`target_cosine`) or the rounds run out; a round after one without any valid candidate
asks again with fresh seeds. Candidates that copy an example, leak the prompt, carry a label the
train-split classifier does not rank in its top k, an answer their parents do not support, or
talk about the task instead of doing it (`meta_talk`), are never kept.

Example:
    >>> row, reject = await realize_target(target, run, calls, stats)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from factory.config import SynthesisConfig, TeacherConfig
from factory.hashing import fingerprint
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.synthesis.answers import answer_schema, parse_answer
from factory.synthesis.meta_talk import meta_talk
from factory.synthesis.parsing import Parsed
from factory.synthesis.plan import PlannedTarget
from factory.synthesis.prompts import Example, build_messages, correction_messages
from factory.synthesis.steer import displacement
from factory.synthesis.targets import derive_seed
from factory.synthesis.train_set import TrainSet
from factory.synthesis.verify import LabelVerifier, copy_or_leak
from factory.teacher.calls import CallResult, SampleRequest, TeacherCalls

__all__ = [
    "RunContext",
    "SynthesisResult",
    "SynthesisStats",
    "realize_target",
    "reject_row",
    "result_frames",
    "sampling_params",
]

Embed = Callable[[list[str]], Awaitable[np.ndarray]]


@dataclass
class SynthesisResult:
    """Kept samples (SYNTHETIC_SAMPLES), targets without a sample (SYNTHETIC_REJECTS), stats,
    and the samples' text vectors: shape (n, d), float32, row i that of `samples` row i."""

    samples: pl.DataFrame
    rejects: pl.DataFrame
    stats: dict[str, Any]
    vectors: np.ndarray


@dataclass
class SynthesisStats:
    """Counters of one synthesis run."""

    accepted: int = 0
    rejected: int = 0
    not_attempted: int = 0
    candidates: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    candidate_reasons: Counter[str] = field(default_factory=Counter)
    achieved: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    rounds: Counter[int] = field(default_factory=Counter)
    label_checked: int = 0
    label_agreed: int = 0
    started: float = field(default_factory=time.perf_counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data summary: outcomes, reasons, cosines by method, label agreement, seconds."""
        every = [c for values in self.achieved.values() for c in values]
        targets = self.accepted + self.rejected
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "not_attempted": self.not_attempted,
            "acceptance_rate": self.accepted / targets if targets else None,
            "candidates": self.candidates,
            "reasons": dict(sorted(self.reasons.items())),
            "candidate_reasons": dict(sorted(self.candidate_reasons.items())),
            "mean_achieved_cosine": float(np.mean(every)) if every else None,
            "mean_achieved_cosine_by_method": {
                m: float(np.mean(v)) for m, v in sorted(self.achieved.items()) if v
            },
            "rounds_used": {str(k): v for k, v in sorted(self.rounds.items())},
            "label_agreement_rate": (
                self.label_agreed / self.label_checked if self.label_checked else None
            ),
            "seconds": round(time.perf_counter() - self.started, 3),
        }


def sampling_params(cfg: TeacherConfig) -> str:
    """JSON of temperature, top_p and max_tokens (keys sorted)."""
    params = {"max_tokens": cfg.max_tokens, "temperature": cfg.temperature, "top_p": cfg.top_p}
    return json.dumps(params, sort_keys=True)


@dataclass
class RunContext:
    """What every target of one run shares."""

    kind: str
    run_id: str
    teacher_fingerprint: str
    teacher: TeacherConfig
    synthesis: SynthesisConfig
    train: TrainSet
    embed: Embed
    template_hash: str
    verifier: LabelVerifier | None = None
    answer_vectors: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    prompt_group: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    """Entered while one target's candidates are asked: a server that answers one request at a
    time and caches the last prompt (llama.cpp) then gets them back to back and evaluates their
    shared prompt once, instead of once per candidate when targets interleave (a lock, or a
    `TeacherPool.lane` holding one of its servers)."""

    def __post_init__(self) -> None:
        self.rows = self.rows or self.train.row_of()
        self.schema = answer_schema(self.kind)

    def examples(self, target: PlannedTarget) -> list[Example]:
        """The parents of `target` as prompt examples."""
        rows = [self.rows[d] for d in target.parent_doc_ids]
        return [Example(self.train.texts[r], self.train.answers[r]) for r in rows]


@dataclass(frozen=True)
class _Candidate:
    seed: int
    parsed: Parsed
    cosine: float
    vector: np.ndarray
    label_confidence: float | None


def _attempt_json(kind: str, parsed: Parsed) -> str:
    if kind == "qa":
        return json.dumps({"question": parsed.text, "answer": parsed.answer}, ensure_ascii=False)
    return json.dumps({"text": parsed.text}, ensure_ascii=False)


async def _round(
    target: PlannedTarget,
    run: RunContext,
    calls: TeacherCalls,
    stats: SynthesisStats,
    messages: list[dict[str, str]],
    round_index: int,
) -> tuple[list[tuple[int, Parsed]], list[str], int, bool]:
    """One round: valid candidates (seed, parsed), problems, answers received, cap reached."""
    cfg, tcfg = run.synthesis, run.teacher
    seeds = [
        derive_seed(cfg.seed, target.target_id, round_index, c)
        for c in range(cfg.candidates_per_target)
    ]
    requests = [
        SampleRequest(messages, tcfg.temperature, tcfg.top_p, tcfg.max_tokens, s, run.schema)
        for s in seeds
    ]
    if run.prompt_group is None:
        results: list[CallResult] = list(await asyncio.gather(*map(calls.call, requests)))
    else:
        async with run.prompt_group():
            results = list(await asyncio.gather(*map(calls.call, requests)))
    examples = [e.text for e in run.examples(target)]
    valid, problems, answered, capped = [], [], 0, False
    for seed, result in zip(seeds, results, strict=True):
        if result.completion is None:
            capped |= result.over_budget
            problems.append(result.error or "no answer")
            continue
        stats.candidates += 1
        answered += 1
        cut = result.completion.finish_reason == "length"
        parsed = parse_answer(run.kind, result.completion.text, truncated=cut)
        problem = parsed.reason if not parsed.ok else None
        if problem is None:
            problem = copy_or_leak(
                parsed.text or "", examples, run.kind, cfg.max_copied_words, cfg.realization
            )
        if problem is None and (talk := meta_talk(parsed.text)) is not None:
            problem = f"meta talk: {talk}"
        if problem is None:
            valid.append((seed, parsed))
        else:
            problems.append(problem)
            stats.candidate_reasons[problem.split(":")[0]] += 1
    return valid, problems, answered, capped


async def _score(
    target: PlannedTarget,
    run: RunContext,
    stats: SynthesisStats,
    valid: list[tuple[int, Parsed]],
    problems: list[str],
) -> list[_Candidate]:
    """Re-embed valid candidates, verify labels and answers, return those that pass."""
    if not valid:
        return []
    vectors = await run.embed([p.text or "" for _, p in valid])
    cosines = vectors @ np.asarray(target.vector, dtype=np.float32)
    confidences: list[float | None] = [None] * len(valid)
    keep = [True] * len(valid)
    if run.kind == "classification" and run.verifier is not None and target.label is not None:
        checks = run.verifier.check(vectors, [target.label] * len(valid))
        for i, check in enumerate(checks):
            stats.label_checked += 1
            stats.label_agreed += int(check.agrees)
            confidences[i] = check.probability
            if check.rank > run.synthesis.label_top_k:
                keep[i] = False
                problems.append(
                    f"label check: classifier ranks {target.label!r} #{check.rank} "
                    f"(top: {check.predicted!r})"
                )
                stats.candidate_reasons["label check"] += 1
    if run.kind == "qa":
        answers = await run.embed([p.answer or "" for _, p in valid])
        parents = [run.answer_vectors[d] for d in target.parent_doc_ids if d in run.answer_vectors]
        if parents:
            support = (answers @ np.stack(parents).T).max(axis=1)
            for i, value in enumerate(support):
                if value < run.synthesis.min_answer_support:
                    keep[i] = False
                    problems.append(
                        f"answer unsupported by parents: cosine {value:.2f} < "
                        f"{run.synthesis.min_answer_support}"
                    )
                    stats.candidate_reasons["answer unsupported by parents"] += 1
    return [
        _Candidate(seed, parsed, float(np.clip(cosines[i], -1.0, 1.0)), vectors[i], confidences[i])
        for i, (seed, parsed) in enumerate(valid)
        if keep[i]
    ]


async def realize_target(
    target: PlannedTarget, run: RunContext, calls: TeacherCalls, stats: SynthesisStats
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(sample row, None), or (None, reject row) when no candidate survives.

    The sample row also carries its text's vector under `vector` (see `result_frames`)."""
    style = run.synthesis.realization
    base = build_messages(run.kind, run.examples(target), label=target.label, style=style)
    best: _Candidate | None = None
    problems: list[str] = []
    rounds = answered = 0
    capped = False
    for round_index in range(1 + run.synthesis.correction_rounds):
        if best is not None and best.cosine >= target.target_cosine:
            break
        messages = base
        if best is not None:
            attempt = _attempt_json(run.kind, best.parsed)
            messages = correction_messages(
                run.kind, base, attempt, best.cosine, target.target_cosine, style
            )
        valid, found, got, capped = await _round(target, run, calls, stats, messages, round_index)
        rounds += 1
        answered += got
        problems += found
        for candidate in await _score(target, run, stats, valid, problems):
            if best is None or candidate.cosine > best.cosine:
                best = candidate
        if capped:
            break
    stats.rounds[rounds] += 1
    if capped:
        # a target cut short by the cap keeps nothing, so a rerun (its answers cached) ends
        # with exactly the sample an uncapped run makes
        reason = "not attempted: token budget reached before this target was finished"
        return None, reject_row(target, run, reason, answered, rounds, stats)
    if best is None:
        reason = "no valid candidate: " + "; ".join(sorted(set(problems)))
        return None, reject_row(target, run, reason, answered, rounds, stats)
    stats.accepted += 1
    stats.achieved[target.method].append(best.cosine)
    return _sample_row(target, run, best, answered, rounds), None


def _provenance(
    target: PlannedTarget, run: RunContext, candidates: int, rounds: int
) -> dict[str, Any]:
    return {
        "gap_id": target.gap_id,
        "target_id": target.target_id,
        "method": target.method,
        "parent_doc_ids": list(target.parent_doc_ids),
        "target_cosine": float(target.target_cosine),
        "step": target.step,
        "candidates": candidates,
        "rounds": rounds,
        "teacher_fingerprint": run.teacher_fingerprint,
        "prompt_template_hash": run.template_hash,
        "sampling_params": sampling_params(run.teacher),
        "curriculum_stage": target.stage,
        "round": target.round,
        "failure_doc_ids": list(target.failure_doc_ids),
        "run_id": run.run_id,
    }


def _sample_row(
    target: PlannedTarget, run: RunContext, best: _Candidate, candidates: int, rounds: int
) -> dict[str, Any]:
    text = best.parsed.text or ""
    moved = None
    if target.direction is not None and target.origin_doc_id is not None:
        origin = run.train.vectors[run.rows[target.origin_doc_id]]
        moved = displacement(best.vector, origin, target.direction)
    return {
        **_provenance(target, run, candidates, rounds),
        "sample_id": fingerprint(target.target_id, best.seed, text)[:16],
        "text": text,
        "label": target.label if run.kind == "classification" else None,
        "answer": best.parsed.answer if run.kind == "qa" else None,
        "achieved_cosine": best.cosine,
        "displacement": moved,
        "label_confidence": best.label_confidence,
        "seed": best.seed,
        "vector": best.vector,
    }


def reject_row(
    target: PlannedTarget,
    run: RunContext,
    reason: str,
    candidates: int,
    rounds: int,
    stats: SynthesisStats,
) -> dict[str, Any]:
    """A SYNTHETIC_REJECTS row for a target without a sample: empty text, NaN achieved cosine."""
    seed = derive_seed(run.synthesis.seed, target.target_id, 0, 0)
    if reason.startswith("not attempted"):
        stats.not_attempted += 1
    else:
        stats.rejected += 1
    stats.reasons[reason.split(":")[0]] += 1
    return {
        **_provenance(target, run, candidates, rounds),
        "sample_id": fingerprint(target.target_id, seed, "")[:16],
        "text": "",
        "label": None,
        "answer": None,
        "achieved_cosine": float("nan"),
        "displacement": None,
        "label_confidence": None,
        "seed": seed,
        "reason": reason,
    }


def result_frames(
    samples: list[dict[str, Any]], rejects: list[dict[str, Any]], dimension: int
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """Rows to frames with exactly the SYNTHETIC_SAMPLES / SYNTHETIC_REJECTS columns, validated,
    sorted by `sample_id`; and the sample rows' `vector`s in frame order, shape (n, dimension)."""
    samples = sorted(samples, key=lambda row: str(row["sample_id"]))
    vectors = np.array([row["vector"] for row in samples], dtype=np.float32)
    rows = [{k: v for k, v in row.items() if k != "vector"} for row in samples]
    out = []
    for schema, frame_rows in ((SYNTHETIC_SAMPLES, rows), (SYNTHETIC_REJECTS, rejects)):
        dtypes = {c.name: c.dtype for c in schema.columns}
        frame = pl.DataFrame(frame_rows, schema=dtypes) if frame_rows else schema.empty()
        out.append(schema.validate(frame.sort("sample_id", maintain_order=True)))
    return out[0], out[1], vectors.reshape(len(samples), dimension)
