"""TrainSet.from_tables: the train split of the pipeline's tables, by doc_id, with clusters."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from factory.errors import SchemaError
from factory.synthesis import TrainSet


def _tables() -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = pl.DataFrame(
        {
            "doc_id": ["d3", "d1", "d4", "d2", "d0"],
            "text": ["three", "one", "four", "two", "zero"],
            "label": ["b", "a", "b", "a", "c"],
            "answer": [None] * 5,
            "split": ["train", "train", "validation", "train", "test"],
            "source_id": ["s"] * 5,
        }
    )
    ids = ["d0", "d4", "d2", "d1", "d3"]
    vectors = np.array([[float(d[1]), 1.0] for d in ids], dtype=np.float32)
    return documents, pl.DataFrame({"doc_id": ids, "vector": vectors})


def test_only_train_rows_in_doc_id_order_with_their_own_vectors() -> None:
    documents, embeddings = _tables()
    train = TrainSet.from_tables(documents, embeddings, "classification")
    assert train.doc_ids == ["d1", "d2", "d3"]
    assert train.texts == ["one", "two", "three"]
    assert train.labels == ["a", "a", "b"]
    np.testing.assert_array_equal(train.vectors[:, 0], [1.0, 2.0, 3.0])
    assert train.clusters is None


def test_clusters_come_from_the_map_and_default_to_noise() -> None:
    documents, embeddings = _tables()
    semantic_map = pl.DataFrame({"doc_id": ["d3", "d1", "d4"], "cluster_id": [7, 5, 9]})
    train = TrainSet.from_tables(documents, embeddings, "text", semantic_map)
    assert train.clusters is not None
    assert train.clusters.tolist() == [5, -1, 7]


def test_a_train_row_without_a_vector_is_refused() -> None:
    documents, embeddings = _tables()
    with pytest.raises(SchemaError, match="have no embedding"):
        TrainSet.from_tables(documents, embeddings.filter(pl.col("doc_id") != "d2"), "text")
