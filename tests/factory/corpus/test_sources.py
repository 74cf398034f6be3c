"""Watched files become shards with unique names: no two files ever share (and replace) one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factory.config import FactoryConfig, SourceConfig
from factory.corpus import ingest_corpus
from factory.corpus.sources import shard_sources, watched_shard_name

CLASHING = [
    ("a b.csv", "a-b.csv"),
    ("é.csv", "ü.csv"),
    ("e\u0301.csv", "\u00e9.csv"),
    ("x.csv", "X.csv"),
    ("a...b.csv", "a.b.csv"),
]


def _watch(folder: Path) -> FactoryConfig:
    return FactoryConfig.from_dict({"sources": [], "ingest": {"watch": {"folder": str(folder)}}})


@pytest.mark.parametrize(("first", "second"), CLASHING)
def test_files_whose_names_sanitize_alike_get_their_own_shards(
    tmp_path: Path, first: str, second: str
) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for i, name in enumerate((first, second)):
        (folder / name).write_text(f"text\ncontent of file number {i}\n", encoding="utf-8")
    sources = shard_sources(_watch(folder))
    assert len(sources) == 2
    assert sorted(Path(s.path or "").name for s in sources.values()) == sorted([first, second])
    assert all("..." not in name and " " not in name for name in sources)
    result = ingest_corpus(_watch(folder))
    assert sorted(result.documents["text"]) == [
        "content of file number 0",
        "content of file number 1",
    ]
    assert len(set(result.documents["source_id"])) == 2


def test_shard_names_are_valid_ids_and_hash_only_what_they_had_to_change() -> None:
    assert watched_shard_name(Path("a-b.csv")) == "a-b.csv"
    assert watched_shard_name(Path("Report_2.v1.jsonl")) == "Report_2.v1.jsonl"
    renamed = watched_shard_name(Path("a b.csv"))
    assert renamed.startswith("a-b-")
    assert renamed.endswith(".csv")
    assert len(renamed) == len("a-b-01234567.csv")
    assert renamed == watched_shard_name(Path("/elsewhere/a b.csv"))  # the name alone decides
    assert watched_shard_name(Path("é.csv")).startswith("e-")
    assert watched_shard_name(Path("e\u0301.csv")).startswith("e-")  # NFD: not the shard of é
    assert watched_shard_name(Path("日本語 data.jsonl")).startswith("data-")
    assert watched_shard_name(Path("日本語")).startswith("shard-")
    for odd in ["_x.csv", "-x.csv", "a...b.csv", "x" * 250 + ".csv", "a\udcff.csv"]:
        SourceConfig(id=watched_shard_name(Path(odd)), kind="csv", path=odd)  # a valid id


def test_a_shard_keeps_its_name_when_a_clashing_file_arrives(tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a b.jsonl").write_text(json.dumps({"text": "first"}) + "\n")
    before = list(shard_sources(_watch(folder)))
    (folder / "a-b.jsonl").write_text(json.dumps({"text": "second"}) + "\n")
    after = list(shard_sources(_watch(folder)))
    assert set(before) < set(after)
