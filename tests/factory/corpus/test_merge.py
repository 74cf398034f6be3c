"""merge_stored_shards: shards reused from the store unless their inputs changed."""

from __future__ import annotations

import json
from pathlib import Path

from factory.config import FactoryConfig
from factory.corpus import merge_stored_shards
from factory.corpus.shards import ShardStore


def _write(path: Path, prefix: str, count: int) -> Path:
    rows = [
        {"text": f"{prefix} question number {i} about my card, long enough"} for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _config(tmp_path: Path) -> FactoryConfig:
    sources = []
    for name, count in (("alpha", 4), ("beta", 3)):
        path = _write(tmp_path / f"{name}.jsonl", name, count)
        sources.append({"id": name, "kind": "jsonl", "path": str(path), "license": "CC0-1.0"})
    data = {"home": str(tmp_path / "home"), "sources": sources}
    return FactoryConfig.from_dict(data, base_dir=tmp_path)


def test_a_second_merge_reuses_every_stored_shard(tmp_path: Path) -> None:
    config = _config(tmp_path)
    store = ShardStore(tmp_path / "shards")
    first = merge_stored_shards(config, store, tmp_path / "lancedb")
    assert first.reused == {"alpha": False, "beta": False}
    assert first.read == ["alpha", "beta"]
    assert first.result.documents.height == 7
    second = merge_stored_shards(config, store, tmp_path / "lancedb", first.result.documents)
    assert second.reused == {"alpha": True, "beta": True}
    assert second.read == []
    assert second.result.documents.equals(first.result.documents)
    _write(tmp_path / "beta.jsonl", "beta", 5)
    third = merge_stored_shards(config, store, tmp_path / "lancedb")
    assert third.read == ["beta"]
    assert third.result.documents.height == 9


def test_near_duplicates_are_scanned_through_the_embedding_cache(tmp_path: Path) -> None:
    texts = [
        "my card has not arrived yet, where is it",
        "my card has not arrived yet, where is it now",
        "what exchange rate do you use for euros",
        "I forgot the pin of my debit card",
    ]
    path = tmp_path / "queries.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    source = {"id": "queries", "kind": "jsonl", "path": str(path), "license": "CC0-1.0"}
    data = {
        "home": str(tmp_path / "home"),
        "sources": [source],
        "ingest": {"near_duplicate_threshold": 0.9},
    }
    config = FactoryConfig.from_dict(data, base_dir=tmp_path)
    store, lancedb = ShardStore(tmp_path / "shards"), tmp_path / "lancedb"
    lines: list[str] = []
    merged = merge_stored_shards(config, store, lancedb, log=lines.append)
    assert merged.result.stats.near_duplicates == 1
    assert merged.result.documents.height == 3
    assert merged.result.quarantine["reason"].str.starts_with("near duplicate").sum() == 1
    assert lines == ["near-duplicate scan: 4 embedded, 0 from cache"]
    merge_stored_shards(config, store, lancedb, log=lines.append)
    assert lines[1] == "near-duplicate scan: 0 embedded, 4 from cache"
