"""Exact k-nearest-neighbour search by blockwise matrix products on unit vectors.

Example:
    >>> import numpy as np
    >>> v = np.eye(3, dtype=np.float32)
    >>> sims, idx = knn(v, v, k=1, self_index=np.arange(3))
    >>> idx.shape
    (3, 1)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from factory.errors import FactoryError

__all__ = ["knn", "knn_density", "unit_rows"]

_BLOCK_FLOATS = 1 << 24  # about 64 MiB of float32 similarities per block


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Float32 copy of `vectors` with each row scaled to length 1, shape (n, d)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.ndim != 2:
        msg = f"vectors must be a 2-D array (n, d), got shape {arr.shape}; stack the rows first"
        raise FactoryError(msg)
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        msg = f"{bad} vector rows hold NaN or inf; re-embed those documents"
        raise FactoryError(msg)
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    if (norms == 0).any():
        msg = f"{int((norms == 0).sum())} vector rows are all zeros; re-embed those documents"
        raise FactoryError(msg)
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


def knn(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
    self_index: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k cosine neighbours of each query among `base`, shapes (m, k) sims and indices.

    `queries` (m, d) and `base` (b, d) must hold unit rows. `self_index[i]` is the row of `base`
    that query i is (excluded from its neighbours), or -1. Rows are sorted by similarity, then by
    base index, so ties resolve the same way every time.
    """
    m, b = queries.shape[0], base.shape[0]
    if self_index is None:
        self_index = np.full(m, -1, dtype=np.int64)
    available = b - 1 if (self_index >= 0).any() else b
    if not 1 <= k <= available:
        msg = f"k={k} neighbours asked but only {available} base rows are available; lower k"
        raise FactoryError(msg)
    block = max(1, min(4096, _BLOCK_FLOATS // max(b, 1)))
    sims_out = np.empty((m, k), dtype=np.float32)
    idx_out = np.empty((m, k), dtype=np.int64)
    for start in range(0, m, block):
        stop = min(start + block, m)
        sims = queries[start:stop] @ base.T
        own = self_index[start:stop]
        rows = np.nonzero(own >= 0)[0]
        sims[rows, own[rows]] = -np.inf
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        part_sims = np.take_along_axis(sims, part, axis=1)
        order = np.lexsort((part, -part_sims), axis=1)
        idx_out[start:stop] = np.take_along_axis(part, order, axis=1)
        sims_out[start:stop] = np.take_along_axis(part_sims, order, axis=1)
        if progress is not None:
            progress(stop, m)
    return sims_out, idx_out


def knn_density(vectors: np.ndarray, is_train: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine of each row to its k nearest train rows (itself excluded), shape (n,)."""
    train_rows = np.nonzero(is_train)[0]
    if train_rows.size < 2:
        msg = f"density needs at least 2 train documents, got {train_rows.size}; add train rows"
        raise FactoryError(msg)
    k_eff = min(k, train_rows.size - 1)
    self_index = np.full(vectors.shape[0], -1, dtype=np.int64)
    self_index[train_rows] = np.arange(train_rows.size)
    sims, _ = knn(vectors, vectors[train_rows], k_eff, self_index=self_index)
    return sims.mean(axis=1)
