"""Takedowns: a document or source leaves a release with every synthetic row derived from it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from factory.home import Home
from lineage import LineageError
from lineage.release.exclusions import exclude


def _frames(home: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    tables = home / "tables"
    corpus = pl.read_parquet(tables / "corpus_documents.parquet")
    samples = pl.concat(
        [pl.read_parquet(tables / "synthetic_samples" / f"{k}.parquet") for k in (1, 2)],
        how="diagonal_relaxed",
    )
    return corpus, samples


def test_a_source_takes_its_documents_and_their_descendants(lineage_home: Path) -> None:
    corpus, samples = _frames(lineage_home)
    found = exclude(Home(lineage_home), ["bank"], "license revoked", corpus, samples)
    assert found.corpus["doc_id"].to_list() == ["d2"]
    # s1aaa has parent d1; s2ccc answers the validation failure v1 (also from bank)
    assert found.samples["sample_id"].to_list() == ["s1abb"]
    assert found.entries == [
        {
            "query": "bank",
            "kind": "source",
            "documents": 2,
            "synthetic_samples": 2,
            "reason": "license revoked",
        }
    ]


def test_each_query_is_recorded_once_and_an_unknown_one_is_an_error(lineage_home: Path) -> None:
    corpus, samples = _frames(lineage_home)
    found = exclude(Home(lineage_home), ["d2", "d2"], None, corpus, samples)
    assert [e["query"] for e in found.entries] == ["d2"]
    assert set(found.samples["sample_id"].to_list()) == {"s1aaa"}
    with pytest.raises(LineageError, match="sources: bank, other"):
        exclude(Home(lineage_home), ["nope"], None, corpus, samples)
