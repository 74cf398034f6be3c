"""Bridges: under-populated paths between neighbouring clusters.

Neighbouring clusters are the edges of a minimum spanning tree over the cluster centroids
(cosine distance). For each edge the path runs between the two clusters' nearest core members
a and b: members at least as dense as their cluster's median member (so a thin thread that
HDBSCAN folded into a cluster is part of the path, not its end), searched among each side's
members closest to the other centroid. Observed is the
number of train documents within the local radius r of the path's emptiest point (at 20, 35, 50,
65 and 80% of the way); expected is the mean number around a and b themselves. Two
clusters whose nearest members are more than `reach` local radii apart (in angle) are separate
topics, not a bridge.

Example:
    >>> found = bridge_candidates(space, 0.3, 4, 30)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from factory.gaps.candidates import BRIDGE, GapCandidate, shortfall
from factory.gaps.space import TrainSpace, normalized

__all__ = ["BRIDGE_REACH", "bridge_candidates", "centroid_tree"]

BRIDGE_REACH = 4.0
"""Most local radii (in angle) between two clusters' nearest members for a bridge."""

_SIDE = 64  # members of each side searched for the nearest pair
_PATH = (0.2, 0.35, 0.5, 0.65, 0.8)


def centroid_tree(centroids: np.ndarray) -> list[tuple[int, int]]:
    """Edges (i, j), i < j, of the minimum spanning tree of unit centroids by cosine distance."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    c = centroids.shape[0]
    if c < 2:
        return []
    dist = np.clip(1.0 - centroids.astype(np.float64) @ centroids.T.astype(np.float64), 1e-9, 2.0)
    np.fill_diagonal(dist, 0.0)
    tree = minimum_spanning_tree(dist).tocoo()
    return sorted((int(min(i, j)), int(max(i, j))) for i, j in zip(tree.row, tree.col, strict=True))


def bridge_candidates(
    space: TrainSpace,
    min_shortfall: float,
    anchors_per_gap: int,
    limit: int,
    reach: float = BRIDGE_REACH,
) -> list[GapCandidate]:
    """Up to `limit` bridge gaps, largest shortfall first."""
    own = space.own_counts()
    members = {c: _core(space, own, c) for c in space.cluster_ids}
    rows = [i for i, c in enumerate(space.cluster_ids) if members[c].size]
    edges = centroid_tree(space.centroids[rows])
    max_angle = reach * float(np.arccos(np.clip(space.radius, -1.0, 1.0)))
    found: list[GapCandidate] = []
    for i, j in edges:
        ca, cb = space.cluster_ids[rows[i]], space.cluster_ids[rows[j]]
        a, b = _nearest_pair(space, members[ca], members[cb], rows[i], rows[j])
        va, vb = space.vectors[a], space.vectors[b]
        if float(np.arccos(np.clip(va @ vb, -1.0, 1.0))) > max_angle:
            continue
        path = np.stack([normalized((1 - t) * va + t * vb) for t in _PATH])
        ends = space.count_within(np.stack([va, vb]), space.radius) - 1  # each end counts itself
        expected = float(max(ends.mean(), 0.0))
        observed = float(space.count_within(path, space.radius).min())
        fall = shortfall(observed, expected)
        if expected < 1 or fall < min_shortfall:
            continue
        mid = path[len(_PATH) // 2]
        half = max(1, anchors_per_gap // 2)
        side_a = _nearest_in(space, members[ca], mid, half)
        side_b = _nearest_in(space, members[cb], mid, anchors_per_gap - half)
        anchors = [x for pair in zip(side_a, side_b, strict=False) for x in pair]
        anchors += [x for x in side_a + side_b if x not in anchors]
        la, lb = space.labels[ca], space.labels[cb]
        found.append(
            GapCandidate(
                kind=BRIDGE,
                observed=observed,
                expected=expected,
                target=mid,
                anchors=anchors,
                rationale=(
                    f"bridge between {la!r} and {lb!r}: {observed:.0f} train documents within "
                    f"r={space.radius:.2f} of the emptiest point on the path between their "
                    f"nearest members, {expected:.0f} expected (as around its two ends)"
                ),
                tie_break=-float(va @ vb),
            )
        )
    found.sort(key=lambda g: (-g.shortfall, g.tie_break, sorted(space.ids[a] for a in g.anchors)))
    return found[:limit]


def _core(space: TrainSpace, own: np.ndarray, cluster: int) -> np.ndarray:
    """Train members of a cluster (outliers aside) at least as dense as its median member."""
    rows = np.nonzero((space.cluster_of == cluster) & ~space.outlier)[0]
    if rows.size == 0:
        return rows
    return rows[own[rows] >= np.median(own[rows])]


def _nearest_pair(
    space: TrainSpace, rows_a: np.ndarray, rows_b: np.ndarray, ia: int, ib: int
) -> tuple[int, int]:
    """The closest (a, b) pair among each side's members nearest the other side's centroid."""
    near_a = _top(rows_a, space.vectors[rows_a] @ space.centroids[ib])
    near_b = _top(rows_b, space.vectors[rows_b] @ space.centroids[ia])
    sims = space.vectors[near_a] @ space.vectors[near_b].T
    flat = int(np.argmax(sims))  # first maximum: deterministic given sorted rows
    return int(near_a[flat // sims.shape[1]]), int(near_b[flat % sims.shape[1]])


def _top(rows: np.ndarray, sims: np.ndarray) -> np.ndarray:
    order = np.lexsort((rows, -sims))[:_SIDE]
    return rows[np.sort(order)]


def _nearest_in(space: TrainSpace, rows: np.ndarray, point: np.ndarray, n: int) -> list[int]:
    sims = space.vectors[rows] @ point
    return [int(rows[i]) for i in np.lexsort((rows, -sims))[:n]]
