"""Sparse regions: neighbourhoods of train documents with few train documents within the radius.

Observed is the number of train documents within `r` of a train document, averaged over it and
its k nearest neighbours (one thin point at the edge of a dense cluster is not a sparse region;
a neighbourhood that is thin throughout is); expected is `k`, what a typical train document
has. Isolated junk (nearest-neighbour cosine below the 2nd percentile) is never a candidate nor
an anchor, and the HDBSCAN noise label plays no part: a document HDBSCAN calls noise but whose
neighbourhood is as full as usual is not a gap.

Example:
    >>> found = sparse_candidates(space, 0.3, 4, 30)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from factory.gaps.candidates import SPARSE_REGION, GapCandidate, shortfall
from factory.gaps.space import TrainSpace, normalized

__all__ = ["SPARSE_REGION", "percentile_ranks", "sparse_candidates"]


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each value among `values`, in (0, 1), shape (n,)."""
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    return (below + 0.5 * equal) / values.size


def sparse_candidates(
    space: TrainSpace, min_shortfall: float, anchors_per_gap: int, limit: int
) -> list[GapCandidate]:
    """Up to `limit` sparse-region gaps with disjoint anchors, emptiest first."""
    own = space.own_counts()
    counts = (own + own[space.idx[:, : space.k]].sum(axis=1)) / (space.k + 1)
    density = space.sims[:, : space.k].mean(axis=1)
    pct = percentile_ranks(density)
    falls = np.array([shortfall(c, space.k) for c in counts])
    pool = np.nonzero(~space.outlier & (falls >= min_shortfall))[0]
    pool = sorted(pool, key=lambda i: (-falls[i], density[i], space.ids[i]))
    found: list[GapCandidate] = []
    used: set[int] = set()
    for c in pool:
        neighbours = [int(j) for j in space.idx[c] if not space.outlier[j]]
        anchors = [int(c), *neighbours[: anchors_per_gap - 1]]
        if len(anchors) < anchors_per_gap or used.intersection(anchors):
            continue
        used.update(anchors)
        target = normalized(space.vectors[anchors].mean(axis=0))
        where = space.labels.get(int(space.cluster_of[c]))
        place = (
            f"near {where!r}"
            if where
            else f"between clusters, closest to {space.label_near(target)}"
        )
        found.append(
            GapCandidate(
                kind=SPARSE_REGION,
                observed=float(counts[c]),
                expected=float(space.k),
                target=target,
                anchors=anchors,
                rationale=(
                    f"sparse region {place}: {counts[c]:.1f} train documents within "
                    f"r={space.radius:.2f} of it and its {space.k} nearest neighbours on "
                    f"average, {space.k} expected (density in the "
                    f"{_ordinal(max(1, int(np.ceil(pct[c] * 100))))} percentile of train)"
                ),
                tie_break=float(density[c]),
            )
        )
        if len(found) == limit:
            break
    return found


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
