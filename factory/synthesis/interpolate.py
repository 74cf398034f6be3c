"""Interpolate + invert: targets between a gap's anchors, realized by the teacher, best of n.

For each gap (in rank order) `budget` targets t_i = normalize(target + alpha_i (a_j - a_k))
are drawn between pairs of the gap's anchors (vectors from the embedder); each is shown to the
teacher through its nearest anchors, and the candidate whose re-embedding is closest to t_i is
kept.

Example:
    >>> result = synthesize_interpolations(gaps, docs, embedder, teacher,  # doctest: +SKIP
    ...     SynthesisConfig(), TeacherConfig(), task_kind="text", run_id="run-1")
    >>> result.samples.columns[:3]  # doctest: +SKIP
    ['sample_id', 'text', 'label']
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from factory.config import SynthesisConfig, TeacherConfig
from factory.embedding.base import Embedder
from factory.errors import FactoryError, SchemaError
from factory.schemas import COVERAGE_GAPS
from factory.synthesis.prompts import Example, template_for
from factory.synthesis.realize import (
    RunContext,
    SynthesisResult,
    SynthesisStats,
    TargetJob,
    realize_target,
    reject_row,
    result_frames,
)
from factory.synthesis.targets import DEFAULT_SPREAD, interpolation_targets, nearest
from factory.teacher.base import Teacher

__all__ = ["METHOD", "majority_label", "synthesize_interpolations"]

METHOD = "interpolate"
_TASK_FIELDS = {"text": None, "classification": "label", "qa": "answer"}


def majority_label(labels: list[str | None]) -> str | None:
    """Most common non-null label; ties go to the label that appears first (nearest anchor)."""
    present = [label for label in labels if label is not None]
    if not present:
        return None
    counts = Counter(present)
    top = max(counts.values())
    return next(label for label in present if counts[label] == top)


def _check_documents(documents: pl.DataFrame, kind: str) -> pl.DataFrame:
    needed = ["doc_id", "text"] + ([_TASK_FIELDS[kind]] if _TASK_FIELDS.get(kind) else [])
    missing = [c for c in needed if c not in documents.columns]
    if missing:
        msg = (
            f"documents for task kind {kind!r} miss columns {missing} (have "
            f"{documents.columns}); pass corpus_documents rows of the train split"
        )
        raise SchemaError(msg)
    if "split" in documents.columns:
        held_out = documents.filter(pl.col("split") != "train").height
        if held_out:
            msg = (
                f"{held_out} documents are not in the train split; only train rows may be "
                "anchors or parents: filter with pl.col('split') == 'train'"
            )
            raise FactoryError(msg)
    for column in ("label", "answer"):
        if column not in documents.columns:
            documents = documents.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return documents.select("doc_id", "text", "label", "answer").unique("doc_id", keep="first")


def _anchor_vectors(
    gaps: pl.DataFrame, docs: dict[str, dict[str, Any]], embedder: Embedder
) -> dict[str, np.ndarray]:
    """Embed every anchor of every gap once (sorted by doc_id); doc_id -> vector (d,)."""
    ids = sorted({d for anchors in gaps["anchor_doc_ids"].to_list() for d in anchors})
    unknown = [d for d in ids if d not in docs]
    if unknown:
        msg = (
            f"{len(unknown)} gap anchors are not among the documents (first {unknown[:3]}); "
            "pass the train documents the gaps were computed from"
        )
        raise FactoryError(msg)
    vectors = embedder.embed([docs[d]["text"] for d in ids]) if ids else np.zeros((0, 0))
    return {d: vectors[i] for i, d in enumerate(ids)}


def _jobs_for_gap(
    gap: dict[str, Any],
    docs: dict[str, dict[str, Any]],
    vectors: dict[str, np.ndarray],
    kind: str,
    config: SynthesisConfig,
    spread: float,
) -> list[TargetJob]:
    target = np.asarray(gap["target"], dtype=np.float32)
    anchor_ids = list(dict.fromkeys(gap["anchor_doc_ids"]))
    if not anchor_ids:
        msg = f"gap {gap['gap_id']!r} has no anchors; gaps must name at least one train anchor"
        raise FactoryError(msg)
    matrix = np.stack([vectors[d] for d in anchor_ids])
    if matrix.shape[1] != target.shape[0]:
        msg = (
            f"gap {gap['gap_id']!r} has a {target.shape[0]}-d target but the embedder gives "
            f"{matrix.shape[1]}-d vectors; use the embedder the gaps were computed with"
        )
        raise FactoryError(msg)
    order = nearest(matrix, target, len(anchor_ids))
    ordered_ids, matrix = [anchor_ids[i] for i in order], matrix[order]
    points = interpolation_targets(target, matrix, int(gap["budget"]), spread)
    jobs = []
    for index, point in enumerate(points):
        shown = [ordered_ids[i] for i in nearest(matrix, point, config.examples_in_prompt)]
        label = None
        if kind == "classification":
            label = majority_label([docs[d]["label"] for d in shown])
            shown = [d for d in shown if label is None or docs[d]["label"] == label]
        sims = np.stack([vectors[d] for d in shown]) @ point
        examples = [Example(docs[d]["text"], docs[d]["answer"]) for d in shown]
        jobs.append(
            TargetJob(gap["gap_id"], index, point, shown, examples, float(sims.max()), label)
        )
    return jobs


def synthesize_interpolations(
    gaps: pl.DataFrame,
    documents: pl.DataFrame,
    embedder: Embedder,
    teacher: Teacher,
    config: SynthesisConfig,
    teacher_config: TeacherConfig,
    task_kind: str,
    run_id: str,
    progress: Callable[[int, int], None] | None = None,
    spread: float = DEFAULT_SPREAD,
    curriculum_stage: int = 0,
) -> SynthesisResult:
    """Realize `budget` interpolated targets per gap with the teacher, keeping the best of n."""
    template_for(task_kind)  # unknown kinds fail before any work
    gaps = COVERAGE_GAPS.validate(gaps).sort(["rank", "gap_id"]).filter(pl.col("budget") > 0)
    docs_frame = _check_documents(documents, task_kind)
    docs = {row["doc_id"]: row for row in docs_frame.iter_rows(named=True)}
    stats = SynthesisStats()
    vectors = _anchor_vectors(gaps, docs, embedder)
    run = RunContext(
        kind=task_kind,
        method=METHOD,
        run_id=run_id,
        teacher_fingerprint=teacher.fingerprint if gaps.height else "",
        teacher=teacher_config,
        synthesis=config,
        curriculum_stage=curriculum_stage,
    )
    jobs = [
        job
        for gap in gaps.iter_rows(named=True)
        for job in _jobs_for_gap(gap, docs, vectors, task_kind, config, spread)
    ]
    samples: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    for done, job in enumerate(jobs, start=1):
        if task_kind == "classification" and job.label is None:
            reason = "no valid candidate: anchors have no label"
            row, reject = None, reject_row(job, run, reason, candidates=0, stats=stats)
        else:
            row, reject = realize_target(
                job, teacher=teacher, embedder=embedder, run=run, stats=stats
            )
        samples += [row] if row else []
        rejects += [reject] if reject else []
        if progress is not None:
            progress(done, len(jobs))
    sample_frame, reject_frame = result_frames(samples, rejects)
    return SynthesisResult(sample_frame, reject_frame, {**stats.as_dict(), "targets": len(jobs)})
