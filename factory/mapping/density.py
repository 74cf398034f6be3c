"""k-nearest-neighbour search on unit vectors: exact below a size limit, approximate above it.

`NeighbourIndex` holds one base set and answers many searches. Up to `EXACT_KNN_LIMIT` base rows
it searches exactly (faiss `IndexFlatIP`). Above, it uses an inverted-file index
(`IndexIVFFlat`, 2 sqrt(b) lists, 10 visited per query) whose k-means is seeded, so the same
vectors always give the same neighbours; similarities are exact, and a true neighbour in an
unvisited list can be missed. A search of fewer than 2,048 queries against an index not built
yet is answered exactly by brute force instead (cheaper than building it). Rows come back
sorted by similarity, then by base index, so ties resolve the same way every time.

Example:
    >>> import numpy as np
    >>> v = np.eye(3, dtype=np.float32)
    >>> sims, idx = knn(v, v, k=1, self_index=np.arange(3))
    >>> idx.shape
    (3, 1)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from factory.errors import BackendError, FactoryError

__all__ = [
    "EXACT_KNN_LIMIT",
    "KnnMethod",
    "NeighbourIndex",
    "knn",
    "knn_density",
    "load_faiss",
    "train_neighbours",
    "unit_rows",
]

EXACT_KNN_LIMIT = 20_000
"""With `method="auto"`, a base of more rows than this is searched approximately."""

KnnMethod = Literal["auto", "exact", "approximate"]

_SEED = 1234
_PROBES = 10  # inverted lists visited per query
_FEW_QUERIES = 2048  # fewer queries than this, against an unbuilt index: exact brute force
_BLOCK = 2048


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


class NeighbourIndex:
    """Cosine k-NN over a fixed base of unit rows (b, d); built once, searched many times."""

    def __init__(self, base: np.ndarray, method: KnnMethod = "auto") -> None:
        if method not in ("auto", "exact", "approximate"):
            msg = (
                f"unknown k-NN method {method!r}; expected one of ['approximate', 'auto', 'exact']"
            )
            raise FactoryError(msg)
        self.base = np.ascontiguousarray(base, dtype=np.float32)
        self.method = method
        self.approximate = method == "approximate" or (
            method == "auto" and self.base.shape[0] > EXACT_KNN_LIMIT
        )
        self._index: Any = None
        self._few = False

    @property
    def size(self) -> int:
        """Base rows."""
        return int(self.base.shape[0])

    def search(
        self,
        queries: np.ndarray,
        k: int,
        self_index: np.ndarray | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k neighbours of unit `queries` (m, d): sims and base indices, shapes (m, k).

        `self_index[i]` is the base row that query i is (excluded from its neighbours), or -1.
        """
        m, b = queries.shape[0], self.size
        own = np.full(m, -1, dtype=np.int64) if self_index is None else np.asarray(self_index)
        own = own.astype(np.int64)
        available = b - 1 if (own >= 0).any() else b
        if not 1 <= k <= available:
            msg = f"k={k} neighbours asked but only {available} base rows are available; lower k"
            raise FactoryError(msg)
        extra = 1 if (own >= 0).any() else 0
        want = k + extra
        depth = want
        sims_out = np.empty((m, k), dtype=np.float32)
        idx_out = np.empty((m, k), dtype=np.int64)
        self._few = self._index is None and m <= _FEW_QUERIES
        order = self._locality_order(queries)
        queries, own = queries[order], own[order]
        for start in range(0, m, _BLOCK):
            stop = min(start + _BLOCK, m)
            block = np.ascontiguousarray(queries[start:stop], dtype=np.float32)
            sims, idx = self._candidates(block, depth)
            bad = idx < 0  # faiss pads with -1 when a probe finds too few rows
            mine = own[start:stop, None]
            is_self = (idx == mine) & (mine >= 0)
            sims = np.where(bad | is_self, -np.inf, sims).astype(np.float32)
            idx = np.where(bad, b, idx).astype(np.int64)
            sims, idx = _sorted(sims, idx)
            sims_out[start:stop], idx_out[start:stop] = sims[:, :k], idx[:, :k]
            if progress is not None:
                progress(stop, m)
        if not np.isfinite(sims_out).all():  # a probe found fewer than k: answer those exactly
            rows = np.nonzero(~np.isfinite(sims_out).all(axis=1))[0]
            exact = NeighbourIndex(self.base, "exact")
            sims_out[rows], idx_out[rows] = exact.search(queries[rows], k, own[rows])
        back = np.empty_like(order)
        back[order] = np.arange(m)
        return sims_out[back], idx_out[back]

    def _locality_order(self, queries: np.ndarray) -> np.ndarray:
        """Query order grouped by nearest inverted list, so each block scans few lists (cache)."""
        if not self.approximate or self._few:
            return np.arange(queries.shape[0])
        if self._index is None:
            self._index = self._build()
        _, lists = self._index.quantizer.search(np.ascontiguousarray(queries, np.float32), 1)
        return np.argsort(lists[:, 0], kind="stable")

    def _candidates(self, block: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
        if self._index is None and self._few:  # brute force beats building an index
            faiss = load_faiss()
            sims, idx = faiss.knn(block, self.base, depth, metric=faiss.METRIC_INNER_PRODUCT)
            return sims.astype(np.float32), idx.astype(np.int64)
        if self._index is None:
            self._index = self._build()
        sims, idx = self._index.search(block, depth)
        return sims.astype(np.float32), idx.astype(np.int64)

    def _build(self) -> Any:
        faiss = load_faiss()
        b, d = self.base.shape
        if not self.approximate:
            index = faiss.IndexFlatIP(d)
            index.add(self.base)
            return index
        rng = np.random.default_rng(_SEED)
        n_lists = max(1, min(b // 40, round(2 * math.sqrt(b))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(d), d, n_lists, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = _SEED
        index.cp.niter = 10
        index.train(self.base[np.sort(rng.choice(b, size=min(b, 40 * n_lists), replace=False))])
        index.add(self.base)
        index.nprobe = min(n_lists, _PROBES)
        return index


def knn(
    queries: np.ndarray,
    base: np.ndarray,
    k: int,
    self_index: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
    method: KnnMethod = "auto",
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k cosine neighbours of each query among `base`, shapes (m, k) sims and indices.

    `queries` (m, d) and `base` (b, d) must hold unit rows; see `NeighbourIndex.search`.
    """
    return NeighbourIndex(base, method).search(queries, k, self_index, progress)


def train_neighbours(
    vectors: np.ndarray, is_train: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray]:
    """The `depth` nearest train rows of every row (itself excluded): sims and row numbers.

    Shapes (n, depth'), depth' = min(depth, train rows - 1); row numbers index `vectors`.
    """
    train_rows = np.nonzero(is_train)[0]
    if train_rows.size < 2:
        msg = f"density needs at least 2 train documents, got {train_rows.size}; add train rows"
        raise FactoryError(msg)
    self_index = np.full(vectors.shape[0], -1, dtype=np.int64)
    self_index[train_rows] = np.arange(train_rows.size)
    sims, idx = knn(vectors, vectors[train_rows], min(depth, train_rows.size - 1), self_index)
    return sims, train_rows[idx]


def knn_density(vectors: np.ndarray, is_train: np.ndarray, k: int) -> np.ndarray:
    """Mean cosine of each row to its k nearest train rows (itself excluded), shape (n,)."""
    sims, _ = train_neighbours(vectors, is_train, k)
    return sims.mean(axis=1)


def load_faiss() -> Any:
    """The faiss module, or a `BackendError` that says how to install it."""
    try:
        import faiss
    except ImportError as exc:
        msg = "faiss is not installed; run `pip install 'factory-data[map]'` (faiss-cpu)"
        raise BackendError(msg) from exc
    return faiss


def _sorted(sims: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by similarity (descending), ties by base index (ascending)."""
    order = np.lexsort((idx, -sims), axis=1)
    return np.take_along_axis(sims, order, axis=1), np.take_along_axis(idx, order, axis=1)
