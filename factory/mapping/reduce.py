"""Dimension reduction for the map: PCA, then UMAP fitted on a hashed sample when n is large.

Example:
    >>> reducer = SampledUMAP(n_components=5, random_state=42)  # doctest: +SKIP
    >>> low = reducer.fit_transform(pca(vectors, 50, 42), doc_ids)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, Self

import numpy as np

from factory.errors import BackendError, FactoryError

__all__ = ["UMAP_FIT_LIMIT", "SampledUMAP", "hashed_sample", "pca"]

UMAP_FIT_LIMIT = 20_000
"""Above this many documents UMAP is fitted on a hashed sample and the rest are transformed."""


def pca(vectors: np.ndarray, n_components: int, random_state: int) -> np.ndarray:
    """PCA projection to `n_components` dimensions, shape (n, c); a copy when d is already small."""
    n, d = vectors.shape
    c = min(n_components, n)
    if d <= c:
        return np.asarray(vectors, dtype=np.float32).copy()
    from sklearn.decomposition import PCA

    out = PCA(n_components=c, random_state=random_state).fit_transform(vectors)
    return np.ascontiguousarray(out, dtype=np.float32)


def hashed_sample(doc_ids: list[str], size: int, random_state: int) -> np.ndarray:
    """Sorted row indices of the `size` documents with the smallest seeded hash of their doc_id."""
    if size >= len(doc_ids):
        return np.arange(len(doc_ids))
    keys = np.array(
        [
            int.from_bytes(hashlib.sha256(f"{random_state}:{d}".encode()).digest()[:8], "big")
            for d in doc_ids
        ],
        dtype=np.uint64,
    )
    return np.sort(np.argsort(keys, kind="stable")[:size])


class SampledUMAP:
    """UMAP fitted on at most `fit_limit` rows (a hashed sample), the other rows transformed."""

    def __init__(
        self,
        n_components: int = 5,
        n_neighbors: int = 15,
        min_dist: float = 0.0,
        metric: str = "euclidean",
        fit_limit: int = UMAP_FIT_LIMIT,
        random_state: int = 42,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.fit_limit = fit_limit
        self.random_state = random_state

    def fit(self, X: np.ndarray, sample_keys: list[str] | None = None) -> Self:  # noqa: N803
        """Fit on X, shape (n, c): all rows, or a hashed sample of `sample_keys` when n is large."""
        n = X.shape[0]
        if n < 4:
            msg = f"UMAP needs at least 4 documents, got {n}; map a larger corpus"
            raise FactoryError(msg)
        keys = sample_keys if sample_keys is not None else [str(i) for i in range(n)]
        if len(keys) != n:
            msg = f"sample_keys has {len(keys)} entries for {n} rows; pass one key per row"
            raise FactoryError(msg)
        self.fit_index_ = hashed_sample(keys, self.fit_limit, self.random_state)
        self.n_neighbors_ = max(2, min(self.n_neighbors, self.fit_index_.size - 1))
        self.umap_ = self._new_umap()
        self.embedding_ = self.umap_.fit_transform(X[self.fit_index_])
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        """Project new rows with the fitted UMAP, shape (m, n_components)."""
        return np.asarray(self.umap_.transform(X), dtype=np.float32)

    def fit_transform(self, X: np.ndarray, sample_keys: list[str] | None = None) -> np.ndarray:  # noqa: N803
        """Fit, then return the reduced rows of X in input order, shape (n, n_components)."""
        self.fit(X, sample_keys)
        out = np.empty((X.shape[0], self.n_components), dtype=np.float32)
        out[self.fit_index_] = self.embedding_
        rest = np.setdiff1d(np.arange(X.shape[0]), self.fit_index_)
        if rest.size:
            out[rest] = self.transform(X[rest])
        return out

    def _new_umap(self) -> Any:
        try:
            with warnings.catch_warnings():  # "Tensorflow not installed; ParametricUMAP ..."
                warnings.simplefilter("ignore", ImportWarning)
                import umap
        except ImportError as exc:
            msg = "umap-learn is not installed; run `pip install 'factory-data[map]'`"
            raise BackendError(msg) from exc
        return umap.UMAP(
            n_components=self.n_components,
            n_neighbors=self.n_neighbors_,
            min_dist=self.min_dist,
            metric=self.metric,
            random_state=self.random_state,
            n_jobs=1,
        )
