"""Synthesis plans of the conditions: random train rows (b) and gaps (c, d).

(b) aims at N train rows drawn at random: each target is the row's own vector (a perturbation
with step 0), its label is the row's, and the teacher is shown the row first and then its
nearest rows of the same label (`synthesis.examples_in_prompt` in all), through the same
prompt, best-of-n and label check as (c) and (d). So (b) and (c) differ only in where the
targets lie. (c) and (d) plan through `find_gaps` and `build_plan` like the pipeline.

Example:
    >>> targets = untargeted_plan(train, 48, seed=0, examples=3)  # doctest: +SKIP
    >>> {t.method for t in targets}, targets[0].step  # doctest: +SKIP
    ({'perturb'}, 0.0)
"""

from __future__ import annotations

import numpy as np
import polars as pl

from factory.config import GapsConfig, SynthesisConfig
from factory.errors import FactoryError
from factory.experiments.space import ExperimentSpace
from factory.gaps import GapFinding, find_gaps
from factory.hashing import fingerprint
from factory.synthesis import PlannedTarget, TrainSet, build_plan, nearest

__all__ = ["UNTARGETED", "gap_plan", "untargeted_plan"]

UNTARGETED = "untargeted"
"""`gap_kind` of the targets of condition (b): no gap, a random train row."""


def untargeted_plan(train: TrainSet, n: int, seed: int, examples: int) -> list[PlannedTarget]:
    """`n` targets at train rows drawn uniformly with `seed` (without repeats when n allows)."""
    count = len(train.doc_ids)
    if count == 0 or n < 0:
        msg = f"an untargeted plan needs train rows and n >= 0; got {count} rows, n={n}"
        raise FactoryError(msg)
    rng = np.random.default_rng(seed)
    rows = rng.choice(count, size=n, replace=n > count)
    labels = np.array(train.labels, dtype=object)
    out = []
    for index, row in enumerate(int(r) for r in rows):
        label = train.labels[row]
        others = [int(j) for j in np.nonzero(labels == label)[0] if j != row]
        near = nearest(train.vectors[others], train.vectors[row], examples - 1) if others else []
        parents = [row, *(others[int(i)] for i in near)]
        doc = train.doc_ids[row]
        out.append(
            PlannedTarget(
                target_id=fingerprint("untargeted-target", seed, index, doc)[:16],
                gap_id=fingerprint(UNTARGETED, doc)[:16],
                gap_kind=UNTARGETED,
                gap_rank=index + 1,
                method="perturb",
                target_index=index,
                vector=np.asarray(train.vectors[row], dtype=np.float32),
                parent_doc_ids=[train.doc_ids[p] for p in parents],
                label=label,
                target_cosine=1.0,
                origin_doc_id=doc,
                step=0.0,
                direction_kind="none",
                order=index,
            )
        )
    return out


def gap_plan(
    space: ExperimentSpace,
    gaps: GapsConfig,
    synthesis: SynthesisConfig,
    budget: int,
    round_number: int = 1,
    evaluation: pl.DataFrame | None = None,
) -> tuple[list[PlannedTarget], GapFinding]:
    """Gaps against the space's reference (round 1) or the student's validation failures
    (`evaluation`, round > 1), `budget` samples over them, and the plan that fills them."""
    update: dict[str, object] = {"total_budget": budget}
    if evaluation is not None:
        update["kinds"] = ["student_failure"]
    found = find_gaps(
        space.semantic_map,
        space.map_vectors,
        space.clusters,
        gaps.model_copy(update=update),
        reference=space.reference if evaluation is None else None,
        labels=space.labels,
        evaluation=evaluation,
    )
    targets = build_plan(
        found.gaps, space.train, synthesis, "classification", space.centroids, round_number
    )
    return targets, found
