"""Sparse-region gaps: thin places inside the train split's support, found by k-NN density.

Example:
    >>> gaps = find_sparse_gaps(result.semantic_map, result.vectors, result.clusters,
    ...                         GapsConfig())  # doctest: +SKIP
    >>> gaps["kind"].unique().to_list()  # doctest: +SKIP
    ['sparse_region']
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np
import polars as pl

from factory.config import GapsConfig
from factory.errors import FactoryError, SchemaError
from factory.gaps.budget import split_budget
from factory.gaps.records import gap_id, gaps_frame
from factory.mapping.density import knn, unit_rows
from factory.schemas import SEMANTIC_MAP

__all__ = ["SPARSE_REGION", "find_sparse_gaps", "percentile_ranks"]

SPARSE_REGION = "sparse_region"


def percentile_ranks(values: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of each value among `values`, in (0, 1), shape (n,)."""
    ordered = np.sort(values)
    below = np.searchsorted(ordered, values, side="left")
    equal = np.searchsorted(ordered, values, side="right") - below
    return (below + 0.5 * equal) / values.size


def find_sparse_gaps(
    semantic_map: pl.DataFrame,
    vectors: np.ndarray,
    clusters: pl.DataFrame,
    config: GapsConfig,
    *,
    outlier_percentile: float = 2.0,
    candidate_share: float = 0.25,
    max_target_cosine: float = 0.9,
) -> pl.DataFrame:
    """Gaps of kind `sparse_region` over the train split, as a `coverage_gaps` frame.

    `vectors` has shape (n, d), rows aligned with `semantic_map`. Density is the mean cosine of a
    train document to its `config.k` nearest train documents. A document whose nearest-neighbour
    cosine is below the `outlier_percentile` percentile is isolated junk, not a gap. Candidates
    are the other train documents whose density lies in the lowest `candidate_share` of train.
    Each gap is a candidate plus its nearest train neighbours (the anchors); its target is the
    unit-normalised mean of the anchors. Score scale: 1 - the percentile rank of the candidate's
    density among train documents, so 0.95 means 95% of train is denser. Greedy suppression keeps
    anchors disjoint and target cosines at most `max_target_cosine`; rank 1 is the best score.
    """
    sm = SEMANTIC_MAP.validate(semantic_map)
    unit = unit_rows(vectors)
    if unit.shape[0] != sm.height:
        msg = f"vectors has {unit.shape[0]} rows but semantic_map has {sm.height}; align them"
        raise SchemaError(msg)
    clusters = clusters.sort("cluster_id")
    width = clusters.schema["centroid"].shape[0] if clusters.height else unit.shape[1]
    if width != unit.shape[1]:
        msg = f"cluster centroids have width {width} but vectors {unit.shape[1]}; use one model"
        raise SchemaError(msg)
    order = np.argsort(np.array(sm["doc_id"].to_list()), kind="stable")
    sm, unit = sm[order], unit[order]
    train = np.nonzero(sm["split"].to_numpy() == "train")[0]
    n_anchor = config.anchors_per_gap
    if train.size < n_anchor + 1:
        msg = (
            f"sparse gaps need at least {n_anchor + 1} train documents, got {train.size}; "
            "lower gaps.anchors_per_gap or add train rows"
        )
        raise FactoryError(msg)
    tv = unit[train]
    all_ids = sm["doc_id"].to_list()
    ids = [all_ids[i] for i in train]
    labels = sm["cluster_id"].to_numpy()[train]
    kk = min(max(config.k, n_anchor + 4), train.size - 1)
    sims, idx = knn(tv, tv, kk, self_index=np.arange(train.size))
    density = sims[:, : min(config.k, kk)].mean(axis=1)
    nearest = sims[:, 0]
    outlier = nearest < np.percentile(nearest, outlier_percentile)
    pct = percentile_ranks(density)
    score = 1.0 - pct
    pool = np.nonzero(~outlier & (pct <= candidate_share))[0]
    pool = sorted(pool, key=lambda i: (-score[i], ids[i]))

    limit = min(config.max_gaps, config.total_budget)
    kept = _suppress(pool, idx, outlier, tv, n_anchor, limit, max_target_cosine)

    budgets = split_budget([float(score[g["candidate"]]) for g in kept], config.total_budget)
    label_of = dict(zip(clusters["cluster_id"].to_list(), clusters["label"].to_list(), strict=True))
    centroids = _centroids(clusters, unit.shape[1])
    rows = []
    for rank, (gap, budget) in enumerate(zip(kept, budgets, strict=True), start=1):
        c, anchors = gap["candidate"], gap["anchors"]
        anchor_labels = [int(labels[a]) for a in anchors]
        cid = _majority(anchor_labels)
        anchor_ids = sorted(ids[a] for a in anchors)
        rows.append(
            {
                "gap_id": gap_id(SPARSE_REGION, anchor_ids),
                "rank": rank,
                "kind": SPARSE_REGION,
                "score": float(score[c]),
                "target": gap["target"].astype(np.float32),
                "anchor_doc_ids": anchor_ids,
                "cluster_id": cid,
                "budget": budget,
                "rationale": _rationale(
                    cid,
                    gap["target"],
                    label_of,
                    centroids,
                    float(density[c]),
                    float(pct[c]),
                    float(nearest[c]),
                    anchor_labels,
                ),
            }
        )
    return gaps_frame(rows, unit.shape[1])


def _suppress(
    pool: list[int],
    idx: np.ndarray,
    outlier: np.ndarray,
    tv: np.ndarray,
    n_anchor: int,
    limit: int,
    max_target_cosine: float,
) -> list[dict[str, Any]]:
    """Greedy non-maximum suppression in score order: disjoint anchors, targets apart."""
    kept: list[dict[str, Any]] = []
    used: set[int] = set()
    targets = np.zeros((0, tv.shape[1]), dtype=np.float32)
    for c in pool:
        neighbours = [int(j) for j in idx[c] if not outlier[j]][: n_anchor - 1]
        anchors = [int(c), *neighbours]
        if len(anchors) < n_anchor or used.intersection(anchors):
            continue
        mean = tv[anchors].mean(axis=0)
        target = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        if targets.shape[0] and float(np.max(targets @ target)) > max_target_cosine:
            continue
        used.update(anchors)
        targets = np.vstack([targets, target])
        kept.append({"candidate": int(c), "anchors": anchors, "target": target})
        if len(kept) == limit:
            break
    return kept


def _majority(labels: list[int]) -> int:
    """Most common label; ties prefer a real cluster, then the smaller id."""
    counts = Counter(labels)
    return min(counts, key=lambda c: (-counts[c], c < 0, c))


def _centroids(clusters: pl.DataFrame, dim: int) -> np.ndarray:
    if clusters.height == 0:
        return np.zeros((0, dim), dtype=np.float32)
    return np.asarray(clusters["centroid"].to_numpy(), dtype=np.float32).reshape(-1, dim)


def _rationale(
    cid: int,
    target: np.ndarray,
    label_of: dict[int, str],
    centroids: np.ndarray,
    density: float,
    pct: float,
    nearest: float,
    anchor_labels: list[int],
) -> str:
    if cid >= 0 and cid in label_of:
        where = f"sparse region near {label_of[cid]!r}"
    elif centroids.shape[0]:
        closest = int(np.argmax(centroids @ target))
        where = f"sparse region between clusters, closest to {list(label_of.values())[closest]!r}"
    else:
        where = "sparse region outside every cluster"
    real = sorted({lab for lab in anchor_labels if lab >= 0})
    noise = sum(lab < 0 for lab in anchor_labels)
    spread = f"anchors from {len(real)} cluster{'s' if len(real) != 1 else ''}"
    if noise:
        spread += f" and {noise} noise document{'s' if noise != 1 else ''}"
    return (
        f"{where}: density {density:.2f} ({_ordinal(max(1, math.ceil(pct * 100)))} percentile "
        f"of train), nearest train neighbour at cosine {nearest:.2f}; {spread}"
    )


def _ordinal(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
