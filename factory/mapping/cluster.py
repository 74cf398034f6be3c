"""HDBSCAN clustering (fast_hdbscan, reproducible mode) with stable, size-ordered cluster ids.

Example:
    >>> default_min_cluster_size(10_000)
    100
"""

from __future__ import annotations

import importlib

import numpy as np

from factory.errors import BackendError, FactoryError

__all__ = ["CLUSTERERS", "cluster_points", "default_min_cluster_size", "default_min_samples"]

CLUSTERERS = {"fast_hdbscan": "fast_hdbscan", "hdbscan": "hdbscan"}
"""Clusterer name to the package that provides its `HDBSCAN` class."""


def default_min_cluster_size(n: int) -> int:
    """max(5, n // 100), at most 200."""
    return min(200, max(5, n // 100))


def default_min_samples(min_cluster_size: int) -> int:
    """min_cluster_size // 2, at least 1."""
    return max(1, min_cluster_size // 2)


def cluster_points(
    points: np.ndarray,
    min_cluster_size: int,
    min_samples: int,
    clusterer: str = "fast_hdbscan",
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN labels (-1 = noise) and membership in [0, 1] of each row of points, shape (n,) each.

    `clusterer` is "fast_hdbscan" (reproducible mode) or "hdbscan" (the classic package). Cluster
    ids are renumbered by size, largest first (ties: the cluster whose first row comes first), so
    id 0 is always the biggest cluster.
    """
    n = points.shape[0]
    if min_cluster_size > n:
        msg = (
            f"min_cluster_size={min_cluster_size} is larger than the {n} documents; "
            "lower map.min_cluster_size or leave it unset"
        )
        raise FactoryError(msg)
    if clusterer not in CLUSTERERS:
        msg = f"unknown clusterer {clusterer!r}; expected one of {sorted(CLUSTERERS)}"
        raise FactoryError(msg)
    package = CLUSTERERS[clusterer]
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        msg = f"{package} is not installed; run `pip install 'factory-data[map]'`"
        raise BackendError(msg) from exc
    options = {"reproducible": True} if clusterer == "fast_hdbscan" else {}
    model = module.HDBSCAN(
        min_cluster_size=min_cluster_size, min_samples=min(min_samples, n - 1), **options
    ).fit(np.asarray(points, dtype=np.float64))
    raw = np.asarray(model.labels_, dtype=np.int64)
    membership = np.clip(np.asarray(model.probabilities_, dtype=np.float32), 0.0, 1.0)
    membership[raw < 0] = 0.0
    return _renumber_by_size(raw), membership


def _renumber_by_size(raw: np.ndarray) -> np.ndarray:
    ids = [c for c in np.unique(raw) if c >= 0]
    first = {c: int(np.argmax(raw == c)) for c in ids}
    order = sorted(ids, key=lambda c: (-int((raw == c).sum()), first[c]))
    labels = np.full(raw.shape, -1, dtype=np.int64)
    for new, old in enumerate(order):
        labels[raw == old] = new
    return labels
