"""Realize one target vector as text: prompt the teacher n times, re-embed, keep the closest.

Shared by every synthesis technique; the technique decides targets, examples and labels.

Example:
    >>> row, reject = realize_target(job, kind="text", teacher=teacher,  # doctest: +SKIP
    ...     embedder=embedder, run=run, stats=stats)
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from factory.config import SynthesisConfig, TeacherConfig
from factory.embedding.base import Embedder
from factory.hashing import fingerprint
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.synthesis.parsing import Parsed, parse_completion
from factory.synthesis.prompts import Example, build_messages, prompt_template_hash
from factory.synthesis.targets import derive_seed
from factory.teacher.base import ChatRequest, Teacher

__all__ = [
    "RunContext",
    "SynthesisResult",
    "SynthesisStats",
    "TargetJob",
    "realize_target",
    "reject_row",
    "result_frames",
    "sampling_params",
]


@dataclass
class SynthesisResult:
    """Kept samples (SYNTHETIC_SAMPLES), targets without a sample (SYNTHETIC_REJECTS), stats."""

    samples: pl.DataFrame
    rejects: pl.DataFrame
    stats: dict[str, Any]


@dataclass
class SynthesisStats:
    """Counters of one synthesis run."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    candidate_reasons: Counter[str] = field(default_factory=Counter)
    achieved: list[float] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def as_dict(self) -> dict[str, Any]:
        """Plain-data summary: calls, tokens, accepted, rejected, reasons, seconds, cosines."""
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "reasons": dict(sorted(self.reasons.items())),
            "candidate_reasons": dict(sorted(self.candidate_reasons.items())),
            "mean_achieved_cosine": float(np.mean(self.achieved)) if self.achieved else None,
            "seconds": round(time.perf_counter() - self.started, 3),
        }


@dataclass(frozen=True)
class RunContext:
    """What every row of one run shares: task, provenance and sampling settings."""

    kind: str
    method: str
    run_id: str
    teacher_fingerprint: str
    teacher: TeacherConfig
    synthesis: SynthesisConfig
    curriculum_stage: int = 0

    @property
    def template_hash(self) -> str:
        """SHA-256 of this task kind's prompt template."""
        return prompt_template_hash(self.kind)


@dataclass(frozen=True)
class TargetJob:
    """One target to realize: its vector (d,), the examples shown and the label to ask for."""

    gap_id: str
    target_index: int
    vector: np.ndarray
    parent_doc_ids: list[str]
    examples: list[Example]
    target_cosine: float
    label: str | None = None


def sampling_params(cfg: TeacherConfig) -> str:
    """JSON of temperature, top_p and max_tokens (keys sorted)."""
    params = {"max_tokens": cfg.max_tokens, "temperature": cfg.temperature, "top_p": cfg.top_p}
    return json.dumps(params, sort_keys=True)


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _check(parsed: Parsed, examples: list[Example]) -> str | None:
    """Reason to drop a parsed candidate, or None when it is usable."""
    if not parsed.ok or not parsed.text:
        return parsed.reason or "empty answer"
    if _norm(parsed.text) in {_norm(e.text) for e in examples}:
        return "copies an example"
    return None


def realize_target(
    job: TargetJob, *, teacher: Teacher, embedder: Embedder, run: RunContext, stats: SynthesisStats
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Best of n for one target: (sample row, None), or (None, reject row) when none is valid."""
    n = run.synthesis.candidates_per_target
    seeds = [derive_seed(run.synthesis.seed, job.gap_id, job.target_index, c) for c in range(n)]
    messages = build_messages(run.kind, job.examples, label=job.label)
    cfg = run.teacher
    requests = [
        ChatRequest(messages, cfg.temperature, cfg.top_p, cfg.max_tokens, seed) for seed in seeds
    ]
    completions = teacher.complete_many(requests)
    stats.calls += len(completions)
    stats.prompt_tokens += sum(c.prompt_tokens for c in completions)
    stats.completion_tokens += sum(c.completion_tokens for c in completions)

    valid: list[tuple[int, Parsed]] = []
    problems: list[str] = []
    for index, completion in enumerate(completions):
        cut = completion.finish_reason == "length"
        parsed = parse_completion(run.kind, completion.text, truncated=cut)
        problem = _check(parsed, job.examples)
        if problem is None:
            valid.append((index, parsed))
        else:
            problems.append(problem)
            stats.candidate_reasons[problem] += 1
    if not valid:
        reason = "no valid candidate: " + "; ".join(sorted(set(problems)))
        return None, reject_row(job, run, reason, candidates=n, stats=stats)

    vectors = embedder.embed([p.text or "" for _, p in valid])
    cosines = vectors @ np.asarray(job.vector, dtype=np.float32)
    best = int(np.argmax(cosines))  # first maximum: lowest candidate index wins ties
    index, parsed = valid[best]
    text = parsed.text or ""
    achieved = float(np.clip(cosines[best], -1.0, 1.0))
    stats.accepted += 1
    stats.achieved.append(achieved)
    row = {
        **_provenance(job, run, candidates=n),
        "sample_id": fingerprint(job.gap_id, job.target_index, seeds[index], text)[:16],
        "text": text,
        "label": job.label if run.kind == "classification" else None,
        "answer": parsed.answer if run.kind == "qa" else None,
        "achieved_cosine": achieved,
        "seed": seeds[index],
    }
    return row, None


def _provenance(job: TargetJob, run: RunContext, candidates: int) -> dict[str, Any]:
    return {
        "gap_id": job.gap_id,
        "method": run.method,
        "parent_doc_ids": list(job.parent_doc_ids),
        "target_cosine": float(job.target_cosine),
        "candidates": candidates,
        "teacher_fingerprint": run.teacher_fingerprint,
        "prompt_template_hash": run.template_hash,
        "sampling_params": sampling_params(run.teacher),
        "curriculum_stage": run.curriculum_stage,
        "run_id": run.run_id,
    }


def reject_row(
    job: TargetJob, run: RunContext, reason: str, candidates: int, stats: SynthesisStats
) -> dict[str, Any]:
    """A SYNTHETIC_REJECTS row for a target without a sample: empty text, NaN achieved cosine."""
    seed = derive_seed(run.synthesis.seed, job.gap_id, job.target_index, 0)
    stats.rejected += 1
    stats.reasons[reason] += 1
    return {
        **_provenance(job, run, candidates),
        "sample_id": fingerprint(job.gap_id, job.target_index, seed, "")[:16],
        "text": "",
        "label": None,
        "answer": None,
        "achieved_cosine": float("nan"),
        "seed": seed,
        "reason": reason,
    }


def result_frames(
    samples: list[dict[str, Any]], rejects: list[dict[str, Any]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows to frames with exactly the SYNTHETIC_SAMPLES / SYNTHETIC_REJECTS columns, validated."""
    out = []
    for schema, rows in ((SYNTHETIC_SAMPLES, samples), (SYNTHETIC_REJECTS, rejects)):
        dtypes = {c.name: c.dtype for c in schema.columns}
        frame = pl.DataFrame(rows, schema=dtypes) if rows else schema.empty()
        out.append(schema.validate(frame))
    return out[0], out[1]
