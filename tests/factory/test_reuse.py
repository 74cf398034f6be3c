"""Stored layer results: whole entries by key, damaged ones ignored, old ones pruned."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from factory.reuse import ResultStore


def test_a_saved_result_loads_back_with_its_frames_and_facts(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, "map")
    frame = pl.DataFrame({"doc_id": ["a", "b"], "x": [0.5, -1.0], "ids": [[1, 2], []]})
    store.save("k1", {"semantic_map": frame}, {"noise_share": 0.25, "params": {"k": 10}})
    loaded = store.load("k1")
    assert loaded is not None
    assert loaded.frames["semantic_map"].equals(frame)
    assert loaded.facts == {"noise_share": 0.25, "params": {"k": 10}}
    assert store.load("k2") is None
    assert [p.name for p in (tmp_path / "map").iterdir()] == ["k1"]  # no staging left


def test_a_damaged_entry_is_a_miss_and_saving_replaces_it(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, "synthesis")
    store.save("k", {"samples": pl.DataFrame({"a": [1]})}, {"n": 1})
    (tmp_path / "synthesis" / "k" / "facts.json").write_text("{not json", encoding="utf-8")
    assert store.load("k") is None
    store.save("k", {"samples": pl.DataFrame({"a": [2]})}, {"n": 2})
    loaded = store.load("k")
    assert loaded is not None
    assert loaded.facts == {"n": 2}
    assert loaded.frames["samples"]["a"].to_list() == [2]


def test_only_the_newest_entries_are_kept(tmp_path: Path) -> None:
    store = ResultStore(tmp_path, "map", keep=2)
    for i, key in enumerate(["old", "mid", "new"]):
        store.save(key, {}, {"i": i})
        os.utime(tmp_path / "map" / key, (1_000 + i, 1_000 + i))
    store.save("newest", {}, {"i": 3})
    assert sorted(p.name for p in (tmp_path / "map").iterdir()) == ["new", "newest"]
    with pytest.raises(ValueError, match="keep must be at least 1"):
        ResultStore(tmp_path, "map", keep=0)
