"""The semantic map of a corpus: reduce, cluster, project to 2-D, measure density, name clusters.

Example:
    >>> result = build_map(doc_ids, splits, vectors, texts, MapConfig())  # doctest: +SKIP
    >>> result.semantic_map.columns
    ['doc_id', 'split', 'x', 'y', 'cluster_id', 'membership', 'density']
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from factory.config import MapConfig
from factory.errors import FactoryError, SchemaError
from factory.mapping.cluster import cluster_points, default_min_cluster_size, default_min_samples
from factory.mapping.density import train_neighbours, unit_rows
from factory.mapping.keywords import ctfidf_keywords, label_from_keywords
from factory.mapping.reduce import SampledReducer, l2_neighbours
from factory.schemas import CLUSTERS, SEMANTIC_MAP, vector_dtype
from factory.vectors import vectors_for

__all__ = [
    "NEIGHBOUR_DEPTH",
    "SPLIT_NAMES",
    "MapResult",
    "build_map",
    "build_map_from_tables",
    "clusters_frame",
    "stored_lists",
]

SPLIT_NAMES = ("train", "validation", "test")
NEIGHBOUR_DEPTH = 3
"""The map keeps each document's NEIGHBOUR_DEPTH * k nearest train documents."""
_STEPS = 4


@dataclass(frozen=True)
class MapResult:
    """What `build_map` returns; every array is aligned with `semantic_map` (sorted by doc_id)."""

    semantic_map: pl.DataFrame
    clusters: pl.DataFrame
    noise_share: float
    timings: dict[str, float]
    vectors: np.ndarray
    reduced: np.ndarray
    params: dict[str, Any] = field(default_factory=dict)


def build_map(
    doc_ids: list[str],
    splits: list[str],
    vectors: np.ndarray,
    texts: list[str],
    config: MapConfig,
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> MapResult:
    """Map documents: PCA + UMAP, HDBSCAN clusters, a 2-D view, k-NN density, c-TF-IDF keywords.

    `vectors` has shape (n, d), one row per doc_id. Rows are sorted by doc_id first and every
    random step is seeded, so the result does not depend on input order. Above
    `config.fit_sample` documents the reducers are fitted on a hashed sample (see
    `SampledReducer`). Density is the mean cosine to the k nearest train documents (itself
    excluded). Cluster keywords and centroids come from train members only (all members for a
    cluster without any), so held-out text never steers synthesis.

    Example:
        >>> res = build_map(ids, splits, vecs, texts, MapConfig(), k=10)  # doctest: +SKIP
        >>> res.clusters["label"][0]  # doctest: +SKIP
        'card / arrive / delivery'
    """
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    n = _check_inputs(doc_ids, splits, vectors, texts)
    order = sorted(range(n), key=doc_ids.__getitem__)
    ids = [doc_ids[i] for i in order]
    split_arr = np.array([splits[i] for i in order])
    text_list = [texts[i] for i in order]
    unit = unit_rows(np.asarray(vectors)[order])
    is_train = split_arr == "train"

    mcs = config.min_cluster_size or default_min_cluster_size(n)
    ms = config.min_samples or default_min_samples(mcs)
    step = _Steps(progress, timings)

    reducer = SampledReducer(
        pca_components=config.pca_components,
        n_components=config.n_components,
        n_neighbors=config.n_neighbors,
        fit_sample=config.fit_sample,
        random_state=config.random_state,
    )
    reduced, xy = reducer.fit_transform(unit, ids)
    step.done("reduce")
    labels, membership = _cluster(reduced, reducer.fit_index_, mcs, ms, config.clusterer)
    labels[reducer.placed_outlying_] = -1  # farther from the sample than the sample is from itself
    membership[reducer.placed_outlying_] = 0.0
    step.done("hdbscan")
    neighbour_sims, neighbour_rows = train_neighbours(unit, is_train, NEIGHBOUR_DEPTH * k)
    density = neighbour_sims[:, :k].mean(axis=1)
    step.done("density")
    clusters = clusters_frame(labels, is_train, unit, text_list, config.keywords_per_cluster)
    step.done("keywords")

    semantic_map = pl.DataFrame(
        {
            "doc_id": ids,
            "split": split_arr.tolist(),
            "x": xy[:, 0].astype(np.float32),
            "y": xy[:, 1].astype(np.float32),
            "cluster_id": labels,
            "membership": membership.astype(np.float32),
            "density": density.astype(np.float32),
            "neighbour_rows": pl.Series(neighbour_rows).cast(pl.List(pl.Int64)),
            "neighbour_sims": pl.Series(neighbour_sims).cast(pl.List(pl.Float32)),
        },
        schema={c.name: c.dtype for c in SEMANTIC_MAP.columns},
    )
    timings["total"] = time.perf_counter() - t_start
    params = {
        "n_documents": n,
        "n_train": int(is_train.sum()),
        "min_cluster_size": mcs,
        "min_samples": ms,
        "n_neighbors": reducer.n_neighbors_,
        "pca_components": int(reducer.sample_low_.shape[1]),
        "fit_sample": int(reducer.fit_index_.size),
        "clusterer": config.clusterer,
        "k": k,
    }
    return MapResult(
        semantic_map=SEMANTIC_MAP.validate(semantic_map),
        clusters=CLUSTERS.validate(clusters),
        noise_share=float((labels < 0).mean()),
        timings=timings,
        vectors=unit,
        reduced=reduced,
        params=params,
    )


def build_map_from_tables(
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    config: MapConfig,
    k: int = 10,
    progress: Callable[[int, int], None] | None = None,
) -> MapResult:
    """`build_map` of the `corpus_documents` table (by doc_id) with their stored vectors."""
    docs = corpus_documents.sort("doc_id")
    doc_ids = docs["doc_id"].to_list()
    vectors = vectors_for(document_embeddings, doc_ids)
    texts = docs["text"].to_list()
    return build_map(doc_ids, docs["split"].to_list(), vectors, texts, config, k, progress)


def clusters_frame(
    labels: np.ndarray,
    is_train: np.ndarray,
    unit: np.ndarray,
    texts: list[str],
    keywords_per_cluster: int,
) -> pl.DataFrame:
    """One row per cluster (noise excluded) with the columns of `CLUSTERS`."""
    ids = sorted(int(c) for c in np.unique(labels) if c >= 0)
    members = {c: np.nonzero(labels == c)[0] for c in ids}
    source = {c: m[is_train[m]] if is_train[m].any() else m for c, m in members.items()}
    kw_rows = np.nonzero(is_train)[0]
    keywords = ctfidf_keywords(
        [texts[i] for i in kw_rows], labels[kw_rows].tolist(), keywords_per_cluster
    )
    trainless = [c for c in ids if not is_train[members[c]].any()]
    if trainless:  # such clusters get keywords from all their members
        rows = np.concatenate([members[c] for c in trainless])
        keywords.update(
            ctfidf_keywords([texts[i] for i in rows], labels[rows].tolist(), keywords_per_cluster)
        )
    centroids = np.zeros((len(ids), unit.shape[1]), dtype=np.float32)
    for row, c in enumerate(ids):
        mean = unit[source[c]].mean(axis=0)
        centroids[row] = mean / max(float(np.linalg.norm(mean)), 1e-12)
    kws = [keywords.get(c, []) for c in ids]
    return pl.DataFrame(
        {
            "cluster_id": pl.Series(ids, dtype=pl.Int64),
            "size": pl.Series([m.size for m in members.values()], dtype=pl.Int64),
            "train_size": pl.Series(
                [int(is_train[m].sum()) for m in members.values()], dtype=pl.Int64
            ),
            "centroid": pl.Series(centroids, dtype=vector_dtype(unit.shape[1])),
            "keywords": pl.Series(kws, dtype=pl.List(pl.String)),
            "label": pl.Series(
                [label_from_keywords(kw, c) for kw, c in zip(kws, ids, strict=True)],
                dtype=pl.String,
            ),
        }
    )


def stored_lists(column: pl.Series, depth: int) -> np.ndarray | None:
    """The first `depth` entries of each stored neighbour list, shape (rows, depth); None if short.

    `column` is `neighbour_rows` or `neighbour_sims` of a semantic map (or rows of it).
    """
    if column.len() == 0 or column.list.len().min() < depth:  # type: ignore[operator]
        return None
    return column.list.head(depth).explode().to_numpy().reshape(column.len(), depth)


def _cluster(
    reduced: np.ndarray, sample: np.ndarray, mcs: int, ms: int, clusterer: str
) -> tuple[np.ndarray, np.ndarray]:
    """HDBSCAN on every row, or, when the reducers used a sample, on the sample and propagated.

    A row outside the sample takes the label with the largest distance-weighted share among its
    10 nearest sampled rows (in the clustering space), or noise when no label reaches half; its
    membership is that share times the neighbours' mean membership. (Rows the reducer found
    outlying are made noise by the caller.)
    """
    n = reduced.shape[0]
    if sample.size == n:
        return cluster_points(reduced, mcs, ms, clusterer)
    scale = sample.size / n
    labels_s, member_s = cluster_points(
        reduced[sample], max(5, round(mcs * scale)), max(1, round(ms * scale)), clusterer
    )
    labels = np.empty(n, dtype=np.int64)
    membership = np.empty(n, dtype=np.float32)
    labels[sample], membership[sample] = labels_s, member_s
    rest = np.setdiff1d(np.arange(n), sample)
    dist, idx = l2_neighbours(reduced[rest], reduced[sample], min(10, sample.size), False)
    weights = 1.0 / (dist + 1e-6)
    weights /= weights.sum(axis=1, keepdims=True)
    near = labels_s[idx]
    n_labels = int(labels_s.max()) + 2  # column 0 collects noise
    votes = np.zeros((rest.size, n_labels), dtype=np.float64)
    np.add.at(
        votes, (np.repeat(np.arange(rest.size), idx.shape[1]), near.ravel() + 1), weights.ravel()
    )
    best = votes[:, 1:].argmax(axis=1) if n_labels > 1 else np.zeros(rest.size, dtype=np.int64)
    share = votes[np.arange(rest.size), best + 1] if n_labels > 1 else np.zeros(rest.size)
    best = np.where(share >= 0.5, best, -1).astype(np.int64)
    labels[rest] = best
    membership[rest] = np.where(best >= 0, share * member_s[idx].mean(axis=1), 0.0)
    return labels, membership


def _check_inputs(
    doc_ids: list[str], splits: list[str], vectors: np.ndarray, texts: list[str]
) -> int:
    n = len(doc_ids)
    shape = getattr(vectors, "shape", None)
    lengths = {"doc_ids": n, "splits": len(splits), "texts": len(texts)}
    if shape is None or len(shape) != 2:
        msg = f"vectors must be an array of shape (n, d), got shape {shape}"
        raise SchemaError(msg)
    lengths["vectors"] = int(shape[0])
    if len(set(lengths.values())) != 1:
        msg = f"inputs must have one entry per document; got lengths {lengths}"
        raise SchemaError(msg)
    if len(set(doc_ids)) != n:
        dupes = sorted(d for d, c in Counter(doc_ids).items() if c > 1)[:5]
        msg = f"doc_ids must be unique; repeated: {dupes}; de-duplicate the corpus first"
        raise SchemaError(msg)
    bad = sorted(set(splits) - set(SPLIT_NAMES))
    if bad:
        msg = f"unknown split values {bad}; expected one of {list(SPLIT_NAMES)}"
        raise SchemaError(msg)
    if n < 10:
        msg = f"a semantic map needs at least 10 documents, got {n}; map a larger corpus"
        raise FactoryError(msg)
    return n


class _Steps:
    """Times each step and reports `progress(done, total)`."""

    def __init__(self, progress: Callable[[int, int], None] | None, timings: dict[str, float]):
        self.progress = progress
        self.timings = timings
        self.count = 0
        self.last = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = now - self.last
        self.last = now
        self.count += 1
        if self.progress is not None:
            self.progress(self.count, _STEPS)
