"""The train rows synthesis may draw on: documents with their unit vectors, in one order.

Only train rows may be anchors or parents; `TrainSet.from_frames` refuses any other split, and
`TrainSet.from_tables` takes the train split of the pipeline's tables.

Example:
    >>> train = TrainSet.from_tables(documents, embeddings, "text")  # doctest: +SKIP
    >>> train.vectors.shape  # doctest: +SKIP
    (120, 384)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from factory.errors import ConfigError, FactoryError, SchemaError
from factory.vectors import vectors_for

__all__ = ["TrainSet", "check_task_kind"]

_TASK_FIELDS = {"text": None, "classification": "label", "qa": "answer"}


def check_task_kind(task_kind: str) -> None:
    """Raise a `ConfigError` naming the kinds unless `task_kind` is one of them."""
    if task_kind not in _TASK_FIELDS:
        msg = f"unknown task kind {task_kind!r} for synthesis; expected one of {list(_TASK_FIELDS)}"
        raise ConfigError(msg)


@dataclass(frozen=True)
class TrainSet:
    """Train documents with their unit embeddings; rows in `doc_ids` order."""

    doc_ids: list[str]
    texts: list[str]
    labels: list[str | None]
    answers: list[str | None]
    vectors: np.ndarray
    clusters: np.ndarray | None = None

    @classmethod
    def from_frames(
        cls,
        documents: pl.DataFrame,
        vectors: np.ndarray,
        task_kind: str,
        clusters: np.ndarray | None = None,
    ) -> TrainSet:
        """From train rows (doc_id, text, label, answer) and their vectors in the same order."""
        check_task_kind(task_kind)
        needed = ["doc_id", "text"] + ([_TASK_FIELDS[task_kind]] if _TASK_FIELDS[task_kind] else [])
        missing = [c for c in needed if c not in documents.columns]
        if missing:
            msg = (
                f"documents for task kind {task_kind!r} miss columns {missing} (have "
                f"{documents.columns}); pass corpus_documents rows of the train split"
            )
            raise SchemaError(msg)
        if "split" in documents.columns:
            held_out = documents.filter(pl.col("split") != "train").height
            if held_out:
                msg = (
                    f"{held_out} documents are not in the train split; only train rows may be "
                    "anchors or parents: filter with pl.col('split') == 'train'"
                )
                raise FactoryError(msg)
        if len(vectors) != documents.height:
            msg = f"{len(vectors)} vectors for {documents.height} documents; align them by doc_id"
            raise SchemaError(msg)

        def column(name: str) -> list[Any]:
            return documents[name].to_list() if name in documents.columns else [None] * len(vectors)

        return cls(
            documents["doc_id"].to_list(),
            documents["text"].to_list(),
            column("label"),
            column("answer"),
            np.ascontiguousarray(vectors, dtype=np.float32),
            clusters,
        )

    @classmethod
    def from_tables(
        cls,
        corpus_documents: pl.DataFrame,
        document_embeddings: pl.DataFrame,
        task_kind: str,
        semantic_map: pl.DataFrame | None = None,
    ) -> TrainSet:
        """The train split of `corpus_documents` in doc_id order with its stored vectors, and
        each row's `cluster_id` from `semantic_map` when given (-1 for a row it lacks)."""
        train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
        train = train.select("doc_id", "text", "label", "answer")
        vectors = vectors_for(document_embeddings, train["doc_id"].to_list())
        clusters = None
        if semantic_map is not None:
            joined = train.select("doc_id").join(
                semantic_map.select("doc_id", "cluster_id"), on="doc_id", how="left"
            )
            clusters = joined["cluster_id"].fill_null(-1).to_numpy()
        return cls.from_frames(train, vectors, task_kind, clusters)

    def row_of(self) -> dict[str, int]:
        """doc_id -> row."""
        return {d: i for i, d in enumerate(self.doc_ids)}
