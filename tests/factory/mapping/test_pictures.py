"""The map from the pipeline's tables, and the map's two pictures written side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import MapConfig
from factory.errors import SchemaError
from factory.mapping import MapResult, build_map_from_tables, write_map_pictures
from tests.fixtures.planted_map import Planted


def _tables(planted: Planted) -> tuple[pl.DataFrame, pl.DataFrame]:
    documents = pl.DataFrame(
        {"doc_id": planted.doc_ids, "split": planted.splits, "text": planted.texts}
    )
    embeddings = pl.DataFrame({"doc_id": planted.doc_ids, "vector": planted.vectors})
    return documents, embeddings


def test_the_map_of_tables_aligns_vectors_by_doc_id(
    planted: Planted, planted_map: MapResult
) -> None:
    documents, embeddings = _tables(planted)
    rng = np.random.default_rng(1)
    shuffled = embeddings[rng.permutation(embeddings.height).tolist()]
    result = build_map_from_tables(documents.reverse(), shuffled, MapConfig())
    assert result.semantic_map.equals(planted_map.semantic_map)
    assert result.clusters.equals(planted_map.clusters)
    with pytest.raises(SchemaError, match="have no embedding"):
        build_map_from_tables(documents, embeddings.head(10), MapConfig())


def test_both_pictures_are_written_under_the_stem(
    tmp_path: Path, planted: Planted, planted_map: MapResult
) -> None:
    documents, _ = _tables(planted)
    folder = tmp_path / "plots" / "nested"
    sm, clusters = planted_map.semantic_map, planted_map.clusters
    pictures = write_map_pictures(sm, clusters, documents, None, folder, "semantic_map", "my map")
    assert (pictures.png, pictures.html) == (
        folder / "semantic_map.png",
        folder / "semantic_map.html",
    )
    assert pictures.png.read_bytes().startswith(b"\x89PNG")
    page = pictures.html.read_text(encoding="utf-8")
    assert "my map" in page
    assert planted.texts[0] in page  # hover texts come from the documents
    titled = write_map_pictures(sm, clusters, documents, None, folder, "other", "png", "page")
    assert "page" in titled.html.read_text(encoding="utf-8")


def test_a_stored_map_is_reused_for_the_same_key_only(
    tmp_path: Path, planted: Planted, planted_map: MapResult
) -> None:
    from factory.mapping.stored import map_tables
    from factory.reuse import ResultStore

    documents, embeddings = _tables(planted)
    store = ResultStore(tmp_path, "map")
    first = map_tables(documents, embeddings, MapConfig(), 10, store, "key-1")
    assert not first.reused
    assert first.semantic_map.equals(planted_map.semantic_map)
    steps: list[int] = []
    again = map_tables(
        documents, embeddings, MapConfig(), 10, store, "key-1", lambda d, _: steps.append(d)
    )
    assert again.reused
    assert steps == []
    assert again.semantic_map.equals(first.semantic_map)
    assert again.clusters.equals(first.clusters)
    assert (again.noise_share, again.params) == (first.noise_share, first.params)
    other = map_tables(
        documents, embeddings, MapConfig(), 10, store, "key-2", lambda d, _: steps.append(d)
    )
    assert not other.reused
    assert steps
