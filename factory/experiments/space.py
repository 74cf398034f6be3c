"""What every condition of the experiment shares: vectors, the semantic map, the train set.

Every text (train, validation, reference, test) is embedded once through the project's
`EmbeddingStore` under the work folder, so a rerun embeds nothing. The semantic map is built over
the train and validation rows (validation as a held-out split, so failure gaps can be found on
it) and kept as Parquet in the work folder, keyed by what it depends on.

Example:
    >>> space = prepare_space(config, data, embedder, Path("work"))  # doctest: +SKIP
    >>> space.train.vectors.shape  # doctest: +SKIP
    (7102, 384)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from factory.embedding.base import Embedder
from factory.experiments.config import UtilityExperimentConfig
from factory.experiments.data import ExperimentData
from factory.gaps import Reference
from factory.hashing import fingerprint
from factory.home import Home
from factory.schemas import CLUSTERS, SEMANTIC_MAP
from factory.storage import write_parquet_atomic
from factory.synthesis import TrainSet

__all__ = ["ExperimentSpace", "prepare_space"]

Progress = Callable[[str, int, int], None]
"""Called as `progress(step, done, total)`."""


@dataclass(frozen=True)
class ExperimentSpace:
    """The map (rows sorted by doc_id, `map_vectors` aligned), the train set, the reference and
    the vectors of each part (rows in the part's frame order)."""

    semantic_map: pl.DataFrame
    clusters: pl.DataFrame
    map_vectors: np.ndarray
    train: TrainSet
    centroids: dict[int, np.ndarray]
    labels: dict[str, str | None]
    reference: Reference
    validation_vectors: np.ndarray
    test_vectors: np.ndarray
    full_train_vectors: np.ndarray | None = None
    """Vectors of `ExperimentData.full_train` rows, in its order (for (e) and the oracle)."""


def prepare_space(
    config: UtilityExperimentConfig,
    data: ExperimentData,
    embedder: Embedder,
    work: Path,
    progress: Progress | None = None,
) -> ExperimentSpace:
    """Embed every part (cached), build or reload the map, assemble the train set."""
    from factory.embedding import EmbeddingStore

    parts = [data.full_train, data.validation, data.reference, data.test]
    ids = [d for part in parts for d in part["doc_id"].to_list()]
    texts = [t for part in parts for t in part["text"].to_list()]

    def embedded(done: int, total: int) -> None:
        if progress is not None:
            progress("embed", done, total)

    store = EmbeddingStore(Home(work).lancedb)
    vectors, _ = store.embed_texts(ids, texts, embedder, embedded)
    by_id = {d: i for i, d in enumerate(ids)}

    def rows(part: pl.DataFrame) -> np.ndarray:
        return vectors[[by_id[d] for d in part["doc_id"].to_list()]]

    mapped = pl.concat([data.train, data.validation]).sort("doc_id")
    map_vectors = rows(mapped)
    semantic_map, clusters = _semantic_map(
        config, mapped, map_vectors, embedder.fingerprint, work, progress
    )
    cluster_of = dict(
        zip(semantic_map["doc_id"].to_list(), semantic_map["cluster_id"].to_list(), strict=True)
    )
    train_frame = data.train.sort("doc_id")
    train = TrainSet.from_frames(
        train_frame.select("doc_id", "text", "label"),
        rows(train_frame),
        "classification",
        np.array([cluster_of[d] for d in train_frame["doc_id"].to_list()], dtype=np.int64),
    )
    centroids = {
        int(c): np.asarray(v, dtype=np.float32)
        for c, v in zip(clusters["cluster_id"], clusters["centroid"].to_list(), strict=True)
    }
    return ExperimentSpace(
        semantic_map=semantic_map,
        clusters=clusters,
        map_vectors=map_vectors,
        train=train,
        centroids=centroids,
        labels=dict(zip(train.doc_ids, train.labels, strict=True)),
        reference=Reference(ids=data.reference["doc_id"].to_list(), vectors=rows(data.reference)),
        validation_vectors=rows(data.validation),
        test_vectors=rows(data.test),
        full_train_vectors=rows(data.full_train),
    )


def _semantic_map(
    config: UtilityExperimentConfig,
    mapped: pl.DataFrame,
    vectors: np.ndarray,
    embedder_fingerprint: str,
    work: Path,
    progress: Progress | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The map of train + validation, read from the work folder when it was built before."""
    from factory.mapping import build_map

    key = fingerprint(
        "utility-map",
        config.map.model_dump(mode="json"),
        config.gaps.k,
        embedder_fingerprint,
        mapped["doc_id"].to_list(),
        mapped["split"].to_list(),
    )
    folder = work / "map" / key[:16]
    paths = (folder / "semantic_map.parquet", folder / "clusters.parquet")
    if all(p.is_file() for p in paths):
        return (
            SEMANTIC_MAP.validate(pl.read_parquet(paths[0])),
            CLUSTERS.validate(pl.read_parquet(paths[1])),
        )

    def mapped_step(done: int, total: int) -> None:
        if progress is not None:
            progress("map", done, total)

    result = build_map(
        mapped["doc_id"].to_list(),
        mapped["split"].to_list(),
        vectors,
        mapped["text"].to_list(),
        config.map,
        k=config.gaps.k,
        progress=mapped_step,
    )
    for frame, path in zip((result.semantic_map, result.clusters), paths, strict=True):
        write_parquet_atomic(frame, path)
    return result.semantic_map, result.clusters
