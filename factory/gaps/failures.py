"""Student-failure regions: dense clusters of validation documents the student got wrong.

Input is per-example evaluation on the validation split (doc_id, correct). Around each failed
document its k nearest evaluated documents form a region; observed is the number answered
correctly there, expected is the region's size, so the shortfall is the region's failure rate.
Failed documents in a region at or above `min_shortfall` group with their failed neighbours; a
group of at least `min_support` failures is one gap. Anchors are the train documents nearest
the group's mean direction; the failures themselves are the gap's evidence, never anchors.

Example:
    >>> found = failure_candidates(space, ids, vectors, correct, 0.3, 4, 30, 3)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from factory.errors import FactoryError
from factory.gaps.candidates import STUDENT_FAILURE, GapCandidate
from factory.gaps.space import TrainSpace, normalized
from factory.mapping.density import knn, unit_rows

__all__ = ["failure_candidates"]


def failure_candidates(
    space: TrainSpace,
    doc_ids: list[str],
    vectors: np.ndarray,
    correct: np.ndarray,
    min_shortfall: float,
    anchors_per_gap: int,
    limit: int,
    min_support: int,
) -> list[GapCandidate]:
    """Up to `limit` failure regions, highest failure rate first; `vectors` (m, d) per doc_id."""
    m = len(doc_ids)
    correct = np.asarray(correct, dtype=bool)
    if vectors.shape[0] != m or correct.shape[0] != m:
        msg = (
            f"{m} evaluated ids, {vectors.shape[0]} vectors, {correct.shape[0]} results; align them"
        )
        raise FactoryError(msg)
    failed = np.nonzero(~correct)[0]
    if failed.size < min_support or m < 3:
        return []
    order = np.argsort(np.array(doc_ids), kind="stable")
    ids = [doc_ids[i] for i in order]
    unit, correct = unit_rows(vectors)[order], correct[order]
    kv = min(space.k, m - 1)
    sims, idx = knn(unit, unit, kv, self_index=np.arange(m))
    region_ok = correct[idx].sum(axis=1) + correct
    rate = 1.0 - region_ok / (kv + 1)
    hot = ~correct & (rate >= min_shortfall)
    pool = sorted(np.nonzero(hot)[0], key=lambda i: (-rate[i], -sims[i].mean(), ids[i]))
    used = np.zeros(m, dtype=bool)
    found: list[GapCandidate] = []
    for f in pool:
        if used[f]:
            continue
        group = [int(f)] + [int(j) for j in idx[f] if not correct[j] and not used[j]]
        if len(group) < min_support:
            continue
        used[group] = True
        region = sorted({int(f), *idx[f].tolist()})
        target = normalized(unit[group].mean(axis=0))
        ok = float(correct[region].sum())
        found.append(
            GapCandidate(
                kind=STUDENT_FAILURE,
                observed=ok,
                expected=float(len(region)),
                target=target,
                anchors=space.nearest(target, anchors_per_gap),
                rationale=(
                    f"student fails {len(region) - int(ok)} of {len(region)} validation documents "
                    f"near {space.label_near(target)} ({len(group)} failures grouped here)"
                ),
                tie_break=-float(len(group)),
                evidence=sorted(ids[j] for j in group),
            )
        )
        if len(found) == limit:
            break
    return found
