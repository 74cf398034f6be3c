"""Outside inputs of the gap finders: a reference source and per-example evaluation results."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from factory.config import FactoryConfig, SourceConfig
from factory.errors import ConfigError, SourceError
from factory.gaps.inputs import read_evaluation, reference_texts


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
