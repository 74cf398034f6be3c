"""All gap kinds in one ranked `coverage_gaps` table.

Each kind proposes candidates measured on one scale, the shortfall 1 - observed / expected
(`factory.gaps.candidates`). A gap's score is its kind's weight times its shortfall; gaps are
ranked by score (ties: the kind's own tie-break, then gap id). Going down the ranking, a gap is
dropped when its target lies within `max_target_cosine` of a better gap's target or when more
than half its anchors already anchor a better gap. The top `max_gaps` are kept and the total
budget is split over them by score: 1 sample each, the rest in proportion to score, largest
remainder first.

Example:
    >>> found = find_gaps(semantic_map, vectors, clusters, GapsConfig())  # doctest: +SKIP
    >>> found.gaps.columns[:4]  # doctest: +SKIP
    ['gap_id', 'rank', 'kind', 'score']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from factory.config import GapsConfig
from factory.errors import FactoryError
from factory.gaps.bridges import bridge_candidates
from factory.gaps.budget import split_budget
from factory.gaps.candidates import (
    BRIDGE,
    COVERAGE,
    SPARSE_REGION,
    STUDENT_FAILURE,
    UNDER_REPRESENTED,
    GapCandidate,
)
from factory.gaps.coverage import coverage_candidates
from factory.gaps.failures import failure_candidates
from factory.gaps.mix import mix_candidates, train_groups
from factory.gaps.records import gap_id, gaps_frame
from factory.gaps.space import TrainSpace
from factory.gaps.sparse import sparse_candidates
from factory.mapping.build import stored_lists

__all__ = ["GapFinding", "Reference", "find_gaps"]


@dataclass(frozen=True)
class Reference:
    """Unit vectors (m, d) of a reference sample with one id per row."""

    ids: list[str]
    vectors: np.ndarray


@dataclass(frozen=True)
class GapFinding:
    """The ranked gaps plus what the finders noticed and how many each kind proposed."""

    gaps: pl.DataFrame
    proposed: dict[str, int]
    notes: list[str] = field(default_factory=list)
    radius: float = 0.0


def find_gaps(
    semantic_map: pl.DataFrame,
    vectors: np.ndarray,
    clusters: pl.DataFrame,
    config: GapsConfig,
    *,
    reference: Reference | None = None,
    labels: Mapping[str, str | None] | None = None,
    evaluation: pl.DataFrame | None = None,
) -> GapFinding:
    """Find, rank and budget the gaps of a map; `vectors` (n, d) is aligned with the map.

    `reference` feeds coverage gaps, `labels` (doc_id -> label) the target mix, and
    `evaluation` (doc_id, correct) on validation documents the student-failure gaps.
    """
    space = TrainSpace.build(semantic_map, vectors, clusters, config.k)
    limit = config.max_gaps
    args = (config.min_shortfall, config.anchors_per_gap, limit)
    notes: list[str] = []
    proposed: dict[str, list[GapCandidate]] = {}
    kinds = set(config.kinds)
    if COVERAGE in kinds:
        if reference is None or len(reference.ids) < config.min_support:
            size = 0 if reference is None else len(reference.ids)
            notes.append(
                f"coverage: a reference of {size} documents, so no coverage gaps; "
                "set gaps.reference (a larger validation split or a reference_source)"
            )
            proposed[COVERAGE] = []
        else:
            proposed[COVERAGE] = coverage_candidates(
                space,
                reference.ids,
                reference.vectors,
                *args,
                config.min_support,
                train_sims=_stored_sims(semantic_map, reference.ids, config.k),
            )
    if SPARSE_REGION in kinds:
        proposed[SPARSE_REGION] = sparse_candidates(space, *args)
    if BRIDGE in kinds:
        proposed[BRIDGE] = bridge_candidates(space, *args, reach=config.bridge_reach)
    if UNDER_REPRESENTED in kinds:
        if config.target_mix is None:
            proposed[UNDER_REPRESENTED] = []
        else:
            found, mix_notes = mix_candidates(
                space, train_groups(space, labels), config.target_mix, *args
            )
            proposed[UNDER_REPRESENTED] = found
            notes += [f"under_represented: {n}" for n in mix_notes]
    if STUDENT_FAILURE in kinds:
        proposed[STUDENT_FAILURE] = _failures(space, semantic_map, vectors, evaluation, config)
        if evaluation is None or evaluation.height == 0:
            notes.append("student_failure: no evaluation results, so no failure gaps")
    ranked = _rank(space, [c for found in proposed.values() for c in found], config)
    budgets = split_budget([score for _, score, _ in ranked], config.total_budget)
    rows = []
    for rank, ((cand, score, gid), budget) in enumerate(zip(ranked, budgets, strict=True), 1):
        rows.append(
            {
                "gap_id": gid,
                "rank": rank,
                "kind": cand.kind,
                "score": score,
                "shortfall": cand.shortfall,
                "observed": cand.observed,
                "expected": cand.expected,
                "target": cand.target,
                "anchor_doc_ids": [space.ids[a] for a in cand.anchors],
                "evidence_doc_ids": cand.evidence,
                "cluster_id": space.cluster_near(cand.anchors),
                "budget": budget,
                "rationale": cand.rationale,
            }
        )
    return GapFinding(
        gaps=gaps_frame(rows, space.vectors.shape[1]),
        proposed={kind: len(found) for kind, found in proposed.items()},
        notes=notes,
        radius=space.radius,
    )


def _stored_sims(semantic_map: pl.DataFrame, ids: list[str], depth: int) -> np.ndarray | None:
    """The map's stored train-neighbour cosines of `ids`, shape (m, depth), when it has them all.

    Only for held-out documents: a train document's stored list leaves itself out, a search
    would not.
    """
    if not ids:
        return None
    rows = semantic_map.select("doc_id", "split", "neighbour_sims").join(
        pl.DataFrame({"doc_id": ids}).with_row_index("_order"), on="doc_id", how="inner"
    )
    if rows.height != len(ids) or (rows["split"] == "train").any():
        return None
    sims = stored_lists(rows.sort("_order")["neighbour_sims"], depth)
    return None if sims is None else sims.astype(np.float32)


def _failures(
    space: TrainSpace,
    semantic_map: pl.DataFrame,
    vectors: np.ndarray,
    evaluation: pl.DataFrame | None,
    config: GapsConfig,
) -> list[GapCandidate]:
    if evaluation is None or evaluation.height == 0:
        return []
    missing = {"doc_id", "correct"} - set(evaluation.columns)
    if missing:
        msg = f"evaluation results miss columns {sorted(missing)}; give doc_id and correct"
        raise FactoryError(msg)
    nulls = evaluation["correct"].null_count() + evaluation["doc_id"].null_count()
    if nulls:
        msg = f"evaluation results hold {nulls} null doc_id or correct values; drop or fill them"
        raise FactoryError(msg)
    repeated = evaluation["doc_id"].filter(evaluation["doc_id"].is_duplicated()).unique().sort()
    if repeated.len():
        shown = repeated.head(5).to_list()
        msg = (
            f"evaluation results repeat {repeated.len()} doc_ids (e.g. {shown}); "
            "give one result per document (aggregate seeds first)"
        )
        raise FactoryError(msg)
    split_of = dict(
        zip(semantic_map["doc_id"].to_list(), semantic_map["split"].to_list(), strict=True)
    )
    ids = evaluation["doc_id"].to_list()
    unknown = [d for d in ids if d not in split_of]
    if unknown:
        msg = (
            f"{len(unknown)} evaluated documents are not in the map (e.g. {unknown[:3]}); "
            "evaluate the current corpus or rematerialize semantic_map"
        )
        raise FactoryError(msg)
    held = [split_of[d] for d in ids]
    bad = sorted({s for s in held if s != "validation"})
    if bad:
        msg = (
            f"student-failure gaps come from the validation split only, got rows from {bad}; "
            "the test split is for reporting and train rows are not held out"
        )
        raise FactoryError(msg)
    row_of = {d: i for i, d in enumerate(semantic_map["doc_id"].to_list())}
    picked = np.asarray(vectors)[[row_of[d] for d in ids]]
    return failure_candidates(
        space,
        ids,
        picked,
        evaluation["correct"].cast(pl.Boolean).to_numpy(),
        config.min_shortfall,
        config.anchors_per_gap,
        config.max_gaps,
        config.min_support,
    )


def _rank(
    space: TrainSpace, candidates: list[GapCandidate], config: GapsConfig
) -> list[tuple[GapCandidate, float, str]]:
    """Score, order and de-duplicate candidates; at most max_gaps (and total_budget) kept."""
    scored = []
    for cand in candidates:
        weight = float(config.kind_weights[cand.kind])  # type: ignore[index]
        anchors = [space.ids[a] for a in cand.anchors]
        gid = gap_id(cand.kind, anchors, cand.evidence)
        scored.append((cand, weight * cand.shortfall, gid))
    scored.sort(key=lambda s: (-s[1], s[0].tie_break, s[2]))
    limit = min(config.max_gaps, config.total_budget)
    kept: list[tuple[GapCandidate, float, str]] = []
    targets = np.zeros((0, space.vectors.shape[1]), dtype=np.float32)
    anchor_sets: list[set[int]] = []
    for cand, score, gid in scored:
        if score <= 0:
            continue
        if targets.shape[0] and float(np.max(targets @ cand.target)) > config.max_target_cosine:
            continue
        mine = set(cand.anchors)
        if any(len(mine & other) * 2 > len(mine) for other in anchor_sets):
            continue
        kept.append((cand, score, gid))
        targets = np.vstack([targets, cand.target[None, :]])
        anchor_sets.append(mine)
        if len(kept) == limit:
            break
    return kept
