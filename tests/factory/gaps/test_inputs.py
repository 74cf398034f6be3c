"""Outside inputs of the gap finders: the coverage reference, a reference source and per-example
evaluation results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import FactoryConfig, SourceConfig
from factory.errors import ConfigError, FactoryError, SourceError
from factory.gaps.inputs import coverage_reference, read_evaluation, reference_texts
from factory.hashing import content_hash, fingerprint
from tests.fixtures.synthesis_fakes import BagEmbedder


def test_reference_texts_are_normalized_distinct_and_skip_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    path.write_text(
        '{"query": "where is  my card?"}\n{"query": "where is my card?"}\nnot json\n'
        '{"query": ""}\n{"query": "how do I top up"}\n',
        encoding="utf-8",
    )
    source = SourceConfig(id="prod", kind="jsonl", path=str(path), text_field="query")
    config = FactoryConfig.from_dict({}, base_dir=tmp_path)
    assert reference_texts(source, config) == ["where is my card?", "how do I top up"]


def test_reference_source_must_be_set_and_hold_text(tmp_path: Path) -> None:
    config = FactoryConfig.from_dict({}, base_dir=tmp_path)
    with pytest.raises(ConfigError, match="reference_source is unset"):
        reference_texts(None, config)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"text": ""}\n', encoding="utf-8")
    source = SourceConfig(id="prod", kind="jsonl", path=str(empty))
    with pytest.raises(SourceError, match="holds no readable text"):
        reference_texts(source, config)


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_read_evaluation_reads_every_format(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"doc_id": ["a", "b"], "correct": [True, False], "extra": [1, 2]})
    path = tmp_path / f"eval{suffix}"
    {".parquet": frame.write_parquet, ".csv": frame.write_csv, ".jsonl": frame.write_ndjson}[
        suffix
    ](path)
    result = read_evaluation(path)
    assert result.columns == ["doc_id", "correct"]
    assert result["correct"].to_list() == [True, False]


def test_read_evaluation_accepts_word_booleans_and_refuses_others(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("doc_id,correct\na,yes\nb,0\n", encoding="utf-8")
    assert read_evaluation(path)["correct"].to_list() == [True, False]
    path.write_text("doc_id,correct\na,maybe\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"values \['maybe'\] are not booleans"):
        read_evaluation(path)


def test_read_evaluation_names_missing_columns_and_files(tmp_path: Path) -> None:
    path = tmp_path / "eval.csv"
    path.write_text("doc_id,score\na,1\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"miss columns \['correct'\]"):
        read_evaluation(path)
    with pytest.raises(SourceError, match="do not exist"):
        read_evaluation(tmp_path / "missing.parquet")
    text = tmp_path / "eval.txt"
    text.write_text("a 1\n", encoding="utf-8")
    with pytest.raises(SourceError, match="unknown format"):
        read_evaluation(text)


# --- the coverage reference ---------------------------------------------------------------------


def _small_map() -> tuple[pl.DataFrame, np.ndarray]:
    ids = [f"d{i}" for i in range(6)]
    splits = ["train", "validation", "train", "validation", "test", "validation"]
    vectors = np.eye(6, dtype=np.float32)
    return pl.DataFrame({"doc_id": ids, "split": splits}), vectors


def _gaps_config(tmp_path: Path, **gaps: object) -> FactoryConfig:
    return FactoryConfig.from_dict(
        {"home": str(tmp_path / "home"), "gaps": gaps}, base_dir=tmp_path
    )


def test_no_reference_has_a_fixed_version(tmp_path: Path) -> None:
    semantic_map, vectors = _small_map()
    config = _gaps_config(tmp_path, reference="none")
    assert coverage_reference(config, semantic_map, vectors, ["m"]) == (None, "no-reference")


def test_the_validation_reference_is_the_maps_validation_rows(tmp_path: Path) -> None:
    semantic_map, vectors = _small_map()
    config = _gaps_config(tmp_path, reference="validation")
    reference, version = coverage_reference(config, semantic_map, vectors, ["m"])
    assert reference is not None
    assert reference.ids == ["d1", "d3", "d5"]
    np.testing.assert_array_equal(reference.vectors, vectors[[1, 3, 5]])
    assert version == fingerprint("validation", ["d1", "d3", "d5"])
    shuffled = semantic_map.with_columns(pl.Series("split", ["validation"] * 2 + ["train"] * 4))
    _, other = coverage_reference(config, shuffled, vectors, ["m"])
    assert other != version


def test_a_source_reference_is_embedded_with_the_corpus_model(tmp_path: Path) -> None:
    path = tmp_path / "production.jsonl"
    path.write_text(
        '{"text": "is there an  atm limit"}\n{"text": "is there an atm limit"}\n'
        '{"text": "how do I freeze my card"}\n',
        encoding="utf-8",
    )
    semantic_map, vectors = _small_map()
    config = _gaps_config(
        tmp_path,
        reference="source",
        reference_source={"id": "prod", "kind": "jsonl", "path": str(path)},
    )
    embedder = BagEmbedder()
    texts = ["is there an atm limit", "how do I freeze my card"]
    reference, version = coverage_reference(
        config, semantic_map, vectors, [embedder.fingerprint] * 6, embedder=embedder
    )
    assert reference is not None
    assert reference.ids == [content_hash(t) for t in texts]
    np.testing.assert_allclose(reference.vectors, embedder.embed(texts), atol=1e-6)
    assert version == fingerprint("source", sorted(reference.ids))
    with pytest.raises(FactoryError, match="rematerialize document_embeddings"):
        coverage_reference(config, semantic_map, vectors, ["another-model"], embedder=embedder)
