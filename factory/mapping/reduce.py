"""Dimension reduction for the map: PCA, then UMAP, both fitted on a hashed sample when n is large.

The sample is the `fit_sample` documents with the smallest seeded hash of their doc_id, so it
does not depend on row order. Its k-NN graph (in PCA space) is computed once and shared by the
clustering UMAP (5-d) and the display UMAP (2-d). A document outside the sample is placed at the
distance-weighted mean of the embeddings of its nearest sampled neighbours in PCA space: UMAP's
own starting point for new data, without the extra optimisation epochs.

Example:
    >>> reducer = SampledReducer(fit_sample=10_000, random_state=42)  # doctest: +SKIP
    >>> cluster_space, view = reducer.fit_transform(unit_vectors, doc_ids)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import warnings
from typing import Any, Self

import numpy as np

from factory.errors import BackendError, FactoryError

__all__ = [
    "FIT_SAMPLE",
    "SampledReducer",
    "cache_umap_kernels",
    "hashed_sample",
    "l2_neighbours",
    "pca",
]

FIT_SAMPLE = 5_000
"""Default: above this many documents the reducers are fitted on a hashed sample."""

_PLACE_NEIGHBOURS = 10
_EPOCHS = 200  # UMAP's own choice above 10,000 rows; its 500 below that cost 2.5x for little
_VIEW_EPOCHS = 100  # the 2-D picture is for people; clusters come from the 5-d embedding


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


class SampledReducer:
    """PCA + a 5-d clustering UMAP + a 2-D display UMAP, fitted on at most `fit_sample` rows."""

    def __init__(
        self,
        pca_components: int = 50,
        n_components: int = 5,
        n_neighbors: int = 15,
        fit_sample: int = FIT_SAMPLE,
        random_state: int = 42,
    ) -> None:
        self.pca_components = pca_components
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.fit_sample = fit_sample
        self.random_state = random_state

    def fit(self, X: np.ndarray, sample_keys: list[str]) -> Self:  # noqa: N803
        """Fit on the hashed sample of the rows of X, shape (n, d), keyed by `sample_keys`."""
        n = X.shape[0]
        if n < 4:
            msg = f"UMAP needs at least 4 documents, got {n}; map a larger corpus"
            raise FactoryError(msg)
        if len(sample_keys) != n:
            msg = f"sample_keys has {len(sample_keys)} entries for {n} rows; pass one key per row"
            raise FactoryError(msg)
        self.fit_index_ = hashed_sample(sample_keys, self.fit_sample, self.random_state)
        sample = np.ascontiguousarray(X[self.fit_index_], dtype=np.float32)
        self.pca_ = _fit_pca(sample, self.pca_components, self.random_state)
        low = self._project(sample)
        self.n_neighbors_ = max(2, min(self.n_neighbors, low.shape[0] - 1))
        graph = l2_neighbours(low, low, self.n_neighbors_)
        with warnings.catch_warnings():  # we place new rows ourselves; UMAP's transform is unused
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
            self.cluster_embedding_ = self._umap(
                self.n_components, 0.0, graph, _EPOCHS
            ).fit_transform(low)
            self.view_embedding_ = self._umap(2, 0.1, graph, _VIEW_EPOCHS).fit_transform(low)
        self.sample_low_ = low
        self.sample_reach_ = float(np.percentile(graph[0][:, 1], 99)) if low.shape[0] > 1 else 0.0
        return self

    def transform(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
        """Place rows (m, d) from their nearest sampled neighbours: shapes (m, c) and (m, 2).

        Sets `outlying_` (m,): rows farther from every sampled row than 99% of sampled rows are
        from their nearest sampled neighbour.
        """
        low = self._project(np.ascontiguousarray(X, dtype=np.float32))
        k = min(_PLACE_NEIGHBOURS, self.sample_low_.shape[0])
        dist, idx = l2_neighbours(low, self.sample_low_, k, include_self=False)
        self.outlying_ = dist[:, 0] > self.sample_reach_
        weights = 1.0 / (dist + 1e-6)
        weights /= weights.sum(axis=1, keepdims=True)

        def place(embedding: np.ndarray) -> np.ndarray:
            return np.einsum("mk,mkc->mc", weights, embedding[idx]).astype(np.float32)

        return place(self.cluster_embedding_), place(self.view_embedding_)

    def fit_transform(
        self,
        X: np.ndarray,  # noqa: N803
        sample_keys: list[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        """Fit, then the clustering (n, c) and display (n, 2) coordinates of X in input order."""
        self.fit(X, sample_keys)
        n = X.shape[0]
        cluster = np.empty((n, self.n_components), dtype=np.float32)
        view = np.empty((n, 2), dtype=np.float32)
        cluster[self.fit_index_] = self.cluster_embedding_
        view[self.fit_index_] = self.view_embedding_
        rest = np.setdiff1d(np.arange(n), self.fit_index_)
        self.placed_outlying_ = np.zeros(n, dtype=bool)
        if rest.size:
            cluster[rest], view[rest] = self.transform(X[rest])
            self.placed_outlying_[rest] = self.outlying_
        return cluster, view

    def _project(self, X: np.ndarray) -> np.ndarray:  # noqa: N803
        if self.pca_ is None:
            return np.ascontiguousarray(X, dtype=np.float32)
        return np.ascontiguousarray(self.pca_.transform(X), dtype=np.float32)

    def _umap(
        self, n_components: int, min_dist: float, graph: tuple[np.ndarray, np.ndarray], epochs: int
    ) -> Any:
        try:
            with warnings.catch_warnings():  # "Tensorflow not installed; ParametricUMAP ..."
                warnings.simplefilter("ignore", ImportWarning)
                import umap
        except ImportError as exc:
            msg = "umap-learn is not installed; run `pip install 'factory-data[map]'`"
            raise BackendError(msg) from exc
        cache_umap_kernels()
        dist, idx = graph
        return umap.UMAP(
            n_components=n_components,
            n_neighbors=self.n_neighbors_,
            min_dist=min_dist,
            random_state=self.random_state,
            n_jobs=1,
            n_epochs=epochs,
            precomputed_knn=(idx, dist, None),
        )


_UMAP_UNCACHED_KERNELS = {
    "umap.umap_": ("smooth_knn_dist", "compute_membership_strengths"),
    "umap.layouts": ("_nb_optimize_layout_euclidean_single_epoch",),
}
_umap_kernels_cached = False


def cache_umap_kernels() -> None:
    """Turn on numba's on-disk cache for the umap-learn kernels it compiles without
    `cache=True`: compiling them cost 5-8 s in every process that builds a map (2 cores), where
    reading them back takes well under one. Written by hand because umap-learn exposes no
    switch; where no cache folder is writable, numba compiles them as before."""
    global _umap_kernels_cached
    if _umap_kernels_cached:
        return
    import importlib

    for module_name, names in _UMAP_UNCACHED_KERNELS.items():
        module = importlib.import_module(module_name)
        for name in names:
            dispatcher = getattr(module, name, None)
            if dispatcher is None or not hasattr(dispatcher, "enable_caching"):
                continue  # another umap-learn version: nothing to switch on
            try:
                dispatcher.enable_caching()
            except RuntimeError:  # numba found no writable cache folder
                continue
    _umap_kernels_cached = True


def _fit_pca(sample: np.ndarray, n_components: int, random_state: int) -> Any:
    """A fitted sklearn PCA, or None when the vectors are already that narrow."""
    c = min(n_components, sample.shape[0])
    if sample.shape[1] <= c:
        return None
    from sklearn.decomposition import PCA

    return PCA(n_components=c, random_state=random_state).fit(sample)


def l2_neighbours(
    queries: np.ndarray, base: np.ndarray, k: int, include_self: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Exact euclidean neighbours (faiss): distances and indices (m, k), nearest first.

    With `include_self` the queries are the base rows and each row's first neighbour is itself
    (UMAP's convention for a precomputed graph).
    """
    from factory.mapping.density import load_faiss

    faiss = load_faiss()
    index = faiss.IndexFlatL2(base.shape[1])
    index.add(np.ascontiguousarray(base, dtype=np.float32))
    sq, idx = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    dist = np.sqrt(np.maximum(sq, 0.0)).astype(np.float32)
    order = np.lexsort((idx, dist), axis=1)
    dist, idx = np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)
    if include_self:
        rows = np.arange(queries.shape[0])
        has_self = (idx == rows[:, None]).any(axis=1)
        idx[~has_self, -1] = rows[~has_self]  # exact duplicates can push a row out of its list
        dist[~has_self, -1] = 0.0
        order = np.lexsort((idx != rows[:, None], dist), axis=1)
        dist, idx = np.take_along_axis(dist, order, axis=1), np.take_along_axis(idx, order, axis=1)
    return dist, idx.astype(np.int64)
