"""The train split as the gap finders see it: unit vectors, neighbours and one local radius.

Every gap kind measures the same thing: how many train documents lie within a radius `r` of a
place, against how many are expected there. `r` is the cosine at which a typical train document
has `k` train neighbours: the median, over train documents that are not isolated, of the cosine
to their k-th nearest train neighbour.

Example:
    >>> space = TrainSpace.build(semantic_map, vectors, clusters, k=10)  # doctest: +SKIP
    >>> space.count_within(space.vectors[:3], space.radius)  # doctest: +SKIP
    array([12,  9,  4])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from factory.errors import FactoryError, SchemaError
from factory.mapping.build import stored_lists
from factory.mapping.density import NeighbourIndex, unit_rows
from factory.schemas import SEMANTIC_MAP

__all__ = ["OUTLIER_PERCENTILE", "TrainSpace", "normalized"]

OUTLIER_PERCENTILE = 2.0
"""Train documents whose nearest-neighbour cosine is below this percentile are isolated junk."""


def normalized(vector: np.ndarray) -> np.ndarray:
    """`vector` scaled to unit length, float32."""
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


@dataclass(frozen=True)
class TrainSpace:
    """Train documents sorted by doc_id, their k-NN lists, clusters and the local radius."""

    ids: list[str]
    vectors: np.ndarray
    cluster_of: np.ndarray
    sims: np.ndarray
    idx: np.ndarray
    k: int
    radius: float
    outlier: np.ndarray
    labels: dict[int, str]
    centroids: np.ndarray
    cluster_ids: list[int]
    index: NeighbourIndex

    @classmethod
    def build(
        cls,
        semantic_map: pl.DataFrame,
        vectors: np.ndarray,
        clusters: pl.DataFrame,
        k: int,
        depth: int | None = None,
    ) -> TrainSpace:
        """Index the train rows of a map; `vectors` (n, d) is aligned with `semantic_map`."""
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
        if train.size < k + 2:
            msg = (
                f"gap finding needs at least {k + 2} train documents, got {train.size}; "
                "lower gaps.k or add train rows"
            )
            raise FactoryError(msg)
        tv = unit[train]
        kk = min(train.size - 1, depth or 3 * k)
        index = NeighbourIndex(tv)
        stored = _stored_neighbours(sm, train, kk)
        sims, idx = stored if stored is not None else index.search(tv, kk, np.arange(train.size))
        nearest = sims[:, 0]
        outlier = nearest < np.percentile(nearest, OUTLIER_PERCENTILE)
        radius = float(np.median(sims[~outlier, k - 1]))
        all_ids = sm["doc_id"].to_list()
        centroids = (
            np.asarray(clusters["centroid"].to_numpy(), dtype=np.float32).reshape(-1, width)
            if clusters.height
            else np.zeros((0, width), dtype=np.float32)
        )
        return cls(
            ids=[all_ids[i] for i in train],
            vectors=tv,
            cluster_of=sm["cluster_id"].to_numpy()[train],
            sims=sims,
            idx=idx,
            k=k,
            radius=radius,
            outlier=outlier,
            labels=dict(
                zip(clusters["cluster_id"].to_list(), clusters["label"].to_list(), strict=True)
            ),
            centroids=centroids,
            cluster_ids=clusters["cluster_id"].to_list(),
            index=index,
        )

    @property
    def size(self) -> int:
        """Train documents."""
        return len(self.ids)

    def own_counts(self, radius: float | None = None) -> np.ndarray:
        """Train neighbours of each train document within `radius` (self excluded), shape (t,)."""
        r = self.radius if radius is None else radius
        return (self.sims >= r).sum(axis=1)

    def count_within(
        self, points: np.ndarray, radius: float, depth: int | None = None
    ) -> np.ndarray:
        """Train documents with cosine >= `radius` to each unit point (m, d), capped at depth."""
        if points.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        depth = min(self.size, depth or self.sims.shape[1])
        sims, _ = self.index.search(np.ascontiguousarray(points, dtype=np.float32), depth)
        return (sims >= radius).sum(axis=1)

    def nearest(self, point: np.ndarray, n: int, exclude_outliers: bool = True) -> list[int]:
        """Train rows nearest to a unit `point` (d,), nearest first; ties by lower row."""
        sims = self.vectors @ point
        if exclude_outliers:
            sims = np.where(self.outlier, -np.inf, sims)
        order = np.lexsort((np.arange(sims.size), -sims))
        return [int(i) for i in order[: min(n, self.size)]]

    def label_near(self, point: np.ndarray) -> str:
        """The label of the cluster whose centroid is closest to `point`, quoted."""
        if not self.cluster_ids:
            return "the corpus"
        return repr(self.labels[self.cluster_ids[int(np.argmax(self.centroids @ point))]])

    def cluster_near(self, anchors: list[int]) -> int:
        """Most common cluster among anchor rows; ties: a real cluster, then the smaller id."""
        counts: dict[int, int] = {}
        for a in anchors:
            c = int(self.cluster_of[a])
            counts[c] = counts.get(c, 0) + 1
        return min(counts, key=lambda c: (-counts[c], c < 0, c))


def _stored_neighbours(
    sm: pl.DataFrame, train: np.ndarray, depth: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """The map's own train-neighbour lists of the train rows, as train positions; None if short.

    `sm` is sorted by doc_id, as the lists' row numbers assume.
    """
    idx = stored_lists(sm["neighbour_rows"].gather(train), depth)
    sims = stored_lists(sm["neighbour_sims"].gather(train), depth)
    if idx is None or sims is None:
        return None
    position = np.full(sm.height, -1, dtype=np.int64)
    position[train] = np.arange(train.size)
    mapped = position[idx.astype(np.int64)]
    if (mapped < 0).any():
        return None
    return sims.astype(np.float32), mapped
