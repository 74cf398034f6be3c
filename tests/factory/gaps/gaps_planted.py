"""A planted train split for the gap tests: blobs, a thin cloud and junk, mapped by hand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from factory.hashing import content_hash
from factory.mapping import clusters_frame
from factory.schemas import SEMANTIC_MAP

THIN, JUNK, DIM = 6, 7, 32


@dataclass(frozen=True)
class PlantedMap:
    """A semantic map whose clusters are the true blobs (junk is noise), with its vectors."""

    semantic_map: pl.DataFrame
    vectors: np.ndarray
    clusters: pl.DataFrame
    groups: dict[str, int]


def hand_map(
    ids: list[str], splits: list[str], vectors: np.ndarray, labels: np.ndarray
) -> pl.DataFrame:
    """A `semantic_map` frame mapped by hand: the first two dimensions as x, y, no neighbours."""
    return pl.DataFrame(
        {
            "doc_id": ids,
            "split": splits,
            "x": vectors[:, 0],
            "y": vectors[:, 1],
            "cluster_id": labels,
            "membership": (labels >= 0).astype(np.float32),
            "density": np.zeros(len(ids), dtype=np.float32),
            "neighbour_rows": [[] for _ in ids],  # none stored: the gap finder searches itself
            "neighbour_sims": [[] for _ in ids],
        },
        schema={c.name: c.dtype for c in SEMANTIC_MAP.columns},
    )


def make_planted_map(seed: int = 0) -> PlantedMap:
    """6 blobs of 100, a sparse cloud of 40 and 8 junk points in 32-d; every 5th row validation."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(7, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    parts = [centers[b] + rng.normal(scale=0.04, size=(100, DIM)) for b in range(6)]
    parts.append(centers[THIN] + rng.normal(scale=0.12, size=(40, DIM)))
    parts.append(rng.normal(size=(8, DIM)))
    vectors = np.vstack(parts).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = np.repeat(np.arange(8), [100] * 6 + [40, 8])
    texts = [f"group{g} item {i} topic{'abcdefgh'[g]}" for i, g in enumerate(groups)]
    ids = [content_hash(t) for t in texts]
    splits = np.array(["validation" if i % 5 == 0 else "train" for i in range(len(ids))])
    labels = np.where(groups == JUNK, -1, groups)
    frame = hand_map(ids, splits.tolist(), vectors, labels)
    clusters = clusters_frame(labels, splits == "train", vectors, texts, keywords_per_cluster=3)
    return PlantedMap(frame, vectors, clusters, dict(zip(ids, groups.tolist(), strict=True)))
