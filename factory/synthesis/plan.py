"""The synthesis plan: every target vector, its technique, its parents and its curriculum stage.

Each gap's `budget` becomes that many targets, made by the technique its kind maps to in
`synthesis.methods`: interpolation between the gap's anchors (`interpolate`, also used for
student-failure gaps as `adversarial`) or a controlled step from an anchor along a direction
(`perturb`). Targets are then ordered as a curriculum: the dense core first (targets whose
nearest real example is closest), then the periphery, then bridges across clusters, then the
adversarial targets where the student fails. Each target's stage goes with its sample.

Example:
    >>> plan = build_plan(gaps, train, SynthesisConfig(), "classification")  # doctest: +SKIP
    >>> plan_frame(plan)["stage_name"].unique().to_list()  # doctest: +SKIP
    ['core', 'periphery', 'bridge']
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import polars as pl

from factory.config import SynthesisConfig
from factory.errors import FactoryError
from factory.gaps.candidates import BRIDGE, STUDENT_FAILURE
from factory.hashing import fingerprint
from factory.schemas import COVERAGE_GAPS, SYNTHESIS_PLAN, vector_dtype
from factory.synthesis.steer import attribute_direction, perturbation_targets
from factory.synthesis.targets import interpolation_targets, nearest
from factory.synthesis.train_set import TrainSet, check_task_kind

__all__ = [
    "METHODS",
    "STAGES",
    "PlannedTarget",
    "build_plan",
    "majority_label",
    "plan_frame",
    "targets_from_frame",
]

METHODS = ("interpolate", "perturb", "adversarial")
STAGES = ("core", "periphery", "bridge", "adversarial")
"""Curriculum stages in the order they run; a sample's `curriculum_stage` is the index."""


@dataclass(frozen=True)
class PlannedTarget:
    """One target of the plan and everything needed to realize and audit it."""

    target_id: str
    gap_id: str
    gap_kind: str
    gap_rank: int
    method: str
    target_index: int
    vector: np.ndarray
    parent_doc_ids: list[str]
    label: str | None
    target_cosine: float
    origin_doc_id: str | None = None
    direction: np.ndarray | None = None
    step: float | None = None
    direction_kind: str | None = None
    stage: int = 0
    order: int = 0
    round: int = 1
    failure_doc_ids: tuple[str, ...] = ()

    @property
    def stage_name(self) -> str:
        """Name of the curriculum stage."""
        return STAGES[self.stage]


def majority_label(labels: list[str | None]) -> str | None:
    """Most common non-null label; ties go to the label that appears first (nearest anchor)."""
    present = [label for label in labels if label is not None]
    if not present:
        return None
    counts = Counter(present)
    top = max(counts.values())
    return next(label for label in present if counts[label] == top)


def _parents(
    train: TrainSet, point: np.ndarray, pool: list[int], k: int, kind: str, label: str | None
) -> tuple[list[int], str | None]:
    """The `k` rows of `pool` nearest `point` (within the majority label for classification)."""
    matrix = train.vectors[pool]
    shown = [pool[i] for i in nearest(matrix, point, k)]
    if kind == "classification":
        label = label or majority_label([train.labels[r] for r in shown])
        if label is not None:
            within = [r for r in pool if train.labels[r] == label]
            shown = [within[i] for i in nearest(train.vectors[within], point, k)] if within else []
    return shown, label


def _target(
    gap: dict[str, Any],
    method: str,
    index: int,
    point: np.ndarray,
    train: TrainSet,
    shown: list[int],
    label: str | None,
    **steer: Any,
) -> PlannedTarget:
    sims = train.vectors[shown] @ point if shown else np.zeros(1, dtype=np.float32)
    failures = tuple(gap["evidence_doc_ids"] or ()) if gap["kind"] == STUDENT_FAILURE else ()
    return PlannedTarget(
        target_id=fingerprint("synthesis-target", gap["gap_id"], method, index)[:16],
        gap_id=gap["gap_id"],
        gap_kind=gap["kind"],
        gap_rank=int(gap["rank"]),
        method=method,
        target_index=index,
        vector=np.asarray(point, dtype=np.float32),
        parent_doc_ids=[train.doc_ids[r] for r in shown],
        label=label,
        target_cosine=float(np.clip(sims.max(), -1.0, 1.0)),
        failure_doc_ids=failures,
        **steer,
    )


def _anchor_rows(gap: dict[str, Any], rows: dict[str, int]) -> list[int]:
    anchors = list(dict.fromkeys(gap["anchor_doc_ids"]))
    unknown = [d for d in anchors if d not in rows]
    if not anchors or unknown:
        msg = (
            f"gap {gap['gap_id']!r} names anchors that are not train documents "
            f"({unknown[:3] or 'none given'}); pass the train documents the gaps came from"
        )
        raise FactoryError(msg)
    return [rows[d] for d in anchors]


def _interpolated(
    gap: dict[str, Any],
    method: str,
    train: TrainSet,
    rows: dict[str, int],
    kind: str,
    config: SynthesisConfig,
) -> list[PlannedTarget]:
    target = np.asarray(gap["target"], dtype=np.float32)
    anchors = _anchor_rows(gap, rows)
    matrix = train.vectors[anchors]
    ordered = [anchors[i] for i in nearest(matrix, target, len(anchors))]
    points = interpolation_targets(
        target, train.vectors[ordered], int(gap["budget"]), config.spread
    )
    out = []
    for index, point in enumerate(points):
        shown, label = _parents(train, point, ordered, config.examples_in_prompt, kind, None)
        out.append(_target(gap, method, index, point, train, shown, label))
    return out


def _perturbed(
    gap: dict[str, Any],
    train: TrainSet,
    rows: dict[str, int],
    kind: str,
    config: SynthesisConfig,
    centroids: dict[int, np.ndarray],
    attribute: np.ndarray | None,
) -> list[PlannedTarget]:
    anchors = _anchor_rows(gap, rows)
    everyone = list(range(len(train.doc_ids)))
    out = []
    for index, step in enumerate(
        perturbation_targets(gap, anchors, train, config, centroids, attribute)
    ):
        label = train.labels[step.origin] if kind == "classification" else None
        shown, label = _parents(
            train, step.target, everyone, config.examples_in_prompt, kind, label
        )
        out.append(
            _target(
                gap,
                "perturb",
                index,
                step.target,
                train,
                shown,
                label,
                origin_doc_id=train.doc_ids[step.origin],
                direction=step.direction,
                step=step.step,
                direction_kind=step.kind,
            )
        )
    return out


def _stage(target: PlannedTarget, core_floor: float) -> int:
    if target.method == "adversarial" or target.gap_kind == STUDENT_FAILURE:
        return STAGES.index("adversarial")
    if target.gap_kind == BRIDGE:
        return STAGES.index("bridge")
    return STAGES.index("core" if target.target_cosine >= core_floor else "periphery")


def _curriculum(targets: list[PlannedTarget]) -> list[PlannedTarget]:
    """Stages assigned and targets ordered: stage, then nearest-example cosine (closest first)."""
    inner = [
        t.target_cosine
        for t in targets
        if t.gap_kind not in (BRIDGE, STUDENT_FAILURE) and t.method != "adversarial"
    ]
    core_floor = float(np.median(inner)) if inner else 1.0
    staged = [replace(t, stage=_stage(t, core_floor)) for t in targets]
    staged.sort(key=lambda t: (t.stage, -round(t.target_cosine, 6), t.gap_rank, t.target_index))
    return [replace(t, order=i) for i, t in enumerate(staged)]


def build_plan(
    gaps: pl.DataFrame,
    train: TrainSet,
    config: SynthesisConfig,
    task_kind: str,
    centroids: dict[int, np.ndarray] | None = None,
    round_number: int = 1,
) -> list[PlannedTarget]:
    """Targets for every gap with a budget, by technique, in curriculum order.

    `round_number` is the failure-loop round the plan serves; every target records it.
    """
    if round_number < 1:
        msg = f"round_number must be 1 or more (rounds count from 1); got {round_number}"
        raise FactoryError(msg)
    check_task_kind(task_kind)
    gaps = COVERAGE_GAPS.validate(gaps).sort(["rank", "gap_id"]).filter(pl.col("budget") > 0)
    if gaps.height and gaps["target"].dtype.size != train.vectors.shape[1]:  # type: ignore[attr-defined]
        msg = (
            f"gaps have {gaps['target'].dtype.size}-d targets but the train vectors are "  # type: ignore[attr-defined]
            f"{train.vectors.shape[1]}-d; use the embedder the gaps were computed with"
        )
        raise FactoryError(msg)
    rows = train.row_of()
    attribute = None
    if config.steer_direction == "attribute" and gaps.height:
        attribute = attribute_direction(train, config.attribute_positive, config.attribute_negative)
    targets: list[PlannedTarget] = []
    for gap in gaps.iter_rows(named=True):
        method = config.methods.get(gap["kind"], "interpolate")
        if method == "perturb":
            targets += _perturbed(gap, train, rows, task_kind, config, centroids or {}, attribute)
        else:
            targets += _interpolated(gap, method, train, rows, task_kind, config)
    return [replace(t, round=round_number) for t in _curriculum(targets)]


def plan_frame(targets: list[PlannedTarget], dimension: int | None = None) -> pl.DataFrame:
    """The plan as a SYNTHESIS_PLAN table, in curriculum order."""
    dim = dimension or (len(targets[0].vector) if targets else 0)
    rows = [
        {
            "target_id": t.target_id,
            "plan_order": t.order,
            "curriculum_stage": t.stage,
            "stage_name": t.stage_name,
            "gap_id": t.gap_id,
            "gap_kind": t.gap_kind,
            "gap_rank": t.gap_rank,
            "method": t.method,
            "target_index": t.target_index,
            "target": t.vector.tolist(),
            "parent_doc_ids": t.parent_doc_ids,
            "label": t.label,
            "target_cosine": t.target_cosine,
            "origin_doc_id": t.origin_doc_id,
            "direction": t.direction.tolist() if t.direction is not None else None,
            "direction_kind": t.direction_kind,
            "step": t.step,
            "round": t.round,
            "failure_doc_ids": list(t.failure_doc_ids),
        }
        for t in targets
    ]
    dtypes = {c.name: c.dtype for c in SYNTHESIS_PLAN.columns}
    dtypes["target"] = vector_dtype(max(dim, 1))
    dtypes["direction"] = pl.List(pl.Float32)
    return SYNTHESIS_PLAN.validate(pl.DataFrame(rows, schema=dtypes))


def targets_from_frame(frame: pl.DataFrame) -> list[PlannedTarget]:
    """The plan's targets back from a SYNTHESIS_PLAN table, in `plan_order`."""
    frame = SYNTHESIS_PLAN.validate(frame).sort("plan_order")
    out = []
    for row in frame.iter_rows(named=True):
        direction = row["direction"]
        out.append(
            PlannedTarget(
                target_id=row["target_id"],
                gap_id=row["gap_id"],
                gap_kind=row["gap_kind"],
                gap_rank=row["gap_rank"],
                method=row["method"],
                target_index=row["target_index"],
                vector=np.asarray(row["target"], dtype=np.float32),
                parent_doc_ids=list(row["parent_doc_ids"]),
                label=row["label"],
                target_cosine=row["target_cosine"],
                origin_doc_id=row["origin_doc_id"],
                direction=np.asarray(direction, dtype=np.float32) if direction else None,
                step=row["step"],
                direction_kind=row["direction_kind"],
                stage=row["curriculum_stage"],
                order=row["plan_order"],
                round=row["round"],
                failure_doc_ids=tuple(row["failure_doc_ids"] or ()),
            )
        )
    return out
