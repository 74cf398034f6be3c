"""Shards: a watched folder's files, the shard store, and a merge that ignores arrival order."""

from __future__ import annotations

import json
import os
from pathlib import Path

import polars as pl
import pytest

from factory.config import FactoryConfig
from factory.corpus import ingest_corpus
from factory.corpus.shards import ShardStore, shard_input_fingerprint
from factory.corpus.sources import shard_sources, watched_shard_name
from factory.errors import ConfigError


def _write_jsonl(path: Path, texts: list[str]) -> Path:
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


def _texts(prefix: str, count: int) -> list[str]:
    return [
        f"{prefix} document number {i} about a banking question, long enough" for i in range(count)
    ]


@pytest.fixture
def watched(tmp_path: Path) -> FactoryConfig:
    folder = tmp_path / "inbox"
    folder.mkdir()
    _write_jsonl(
        folder / "a.jsonl", [*_texts("alpha", 6), "shared text that both shards hold here"]
    )
    _write_jsonl(folder / "b.jsonl", [*_texts("beta", 5), "shared text that both shards hold here"])
    (folder / "notes.docx").write_text("ignored: not a shard kind", encoding="utf-8")
    return FactoryConfig.from_dict(
        {
            "home": str(tmp_path / "home"),
            "sources": [],
            "ingest": {"watch": {"folder": str(folder), "license": "CC0-1.0"}},
        }
    )


def test_watched_files_become_shards_after_the_configured_sources(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    (folder / "docs folder").mkdir(parents=True)
    _write_jsonl(folder / "z.jsonl", ["x" * 40])
    config = FactoryConfig.from_dict({"ingest": {"watch": {"folder": str(folder)}}})
    sources = shard_sources(config)
    folder_shard = watched_shard_name(folder / "docs folder")
    assert list(sources) == ["python-stdlib", folder_shard, "z.jsonl"]
    assert folder_shard.startswith("docs-folder-")
    assert sources[folder_shard].kind == "folder"
    assert sources["z.jsonl"].kind == "jsonl"
    assert watched_shard_name(Path("my file (1).csv")).startswith("my-file-1-")


def test_a_watched_file_named_like_a_source_is_refused(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "python-stdlib", ["x" * 40])
    (tmp_path / "python-stdlib").rename(tmp_path / "python-stdlib.jsonl")
    config = FactoryConfig.from_dict(
        {
            "sources": [{"id": "python-stdlib.jsonl", "kind": "stdlib"}],
            "ingest": {"watch": {"folder": str(tmp_path)}},
        }
    )
    with pytest.raises(ConfigError, match="share a name with a configured source"):
        shard_sources(config)


def test_cross_shard_duplicates_are_quarantined_in_the_later_shard(watched: FactoryConfig) -> None:
    result = ingest_corpus(watched)
    assert result.documents.height == 6 + 5 + 1
    (dup,) = result.quarantine.rows(named=True)
    assert dup["source_id"] == "b.jsonl"
    assert dup["reason"].startswith("exact duplicate: same text as ")
    assert dup["reason"].endswith("a.jsonl#L7")
    assert dup["line"] == 6
    assert result.stats.read == 7 + 6
    assert result.stats.exact_duplicates == 1
    assert result.stats.per_source == {"a.jsonl": 7, "b.jsonl": 6}
    kept = result.documents.filter(pl.col("text").str.starts_with("shared"))
    assert kept["source_id"].to_list() == ["a.jsonl"]


def test_the_store_reuses_unchanged_shards_and_reads_only_the_new_one(
    watched: FactoryConfig,
) -> None:
    store = ShardStore(watched.home_dir / "shards")
    first: dict[str, bool] = {}

    def read(source):  # type: ignore[no-untyped-def]
        shard = store.ensure(watched, source)
        first[shard.name] = shard.reused
        return shard.result

    fresh = ingest_corpus(watched)
    stored = ingest_corpus(watched, read_shard=read)
    assert first == {"a.jsonl": False, "b.jsonl": False}
    assert stored.documents.drop("ingested_at").equals(fresh.documents.drop("ingested_at"))
    assert stored.quarantine.equals(fresh.quarantine)

    folder = Path(watched.ingest.watch.folder or "")
    _write_jsonl(folder / "c.jsonl", _texts("gamma", 3))
    first.clear()
    grown = ingest_corpus(watched, read_shard=read)
    assert first == {"a.jsonl": True, "b.jsonl": True, "c.jsonl": False}
    assert grown.documents.height == stored.documents.height + 3
    assert grown.stats.read == stored.stats.read + 3

    again = dict(zip(grown.documents["doc_id"], grown.documents["ingested_at"], strict=True))
    before = dict(zip(stored.documents["doc_id"], stored.documents["ingested_at"], strict=True))
    assert all(again[doc] == at for doc, at in before.items())  # reused rows keep their time


def test_a_changed_file_is_read_again(watched: FactoryConfig) -> None:
    store = ShardStore(watched.home_dir / "shards")
    source = shard_sources(watched)["a.jsonl"]
    before = shard_input_fingerprint(source, watched)
    assert store.ensure(watched, source).reused is False
    assert store.ensure(watched, source).reused is True
    path = Path(source.path or "")
    _write_jsonl(path, _texts("alpha", 2))
    os.utime(path, ns=(1, 1))
    assert shard_input_fingerprint(source, watched) != before
    shard = store.ensure(watched, source)
    assert shard.reused is False
    assert shard.result.documents.height == 2


def test_the_merge_does_not_depend_on_the_order_shards_arrived_in(
    watched: FactoryConfig, tmp_path: Path
) -> None:
    results = []
    for order in (["a.jsonl", "b.jsonl"], ["b.jsonl", "a.jsonl"]):
        store = ShardStore(tmp_path / f"shards-{'-'.join(order)}")
        sources = shard_sources(watched)
        for name in order:  # shards ingested (stored) in this order
            store.ensure(watched, sources[name])
        results.append(
            ingest_corpus(watched, read_shard=lambda s, st=store: st.ensure(watched, s).result)
        )
    first, second = results
    assert first.documents.drop("ingested_at").equals(second.documents.drop("ingested_at"))
    assert first.quarantine.equals(second.quarantine)


def test_max_documents_applies_over_all_shards_by_doc_id(watched: FactoryConfig) -> None:
    limited = FactoryConfig.from_dict(
        watched.model_dump(mode="json")
        | {"ingest": {"max_documents": 4, "watch": watched.ingest.watch.model_dump()}}
    )
    everything = ingest_corpus(watched).documents["doc_id"].to_list()
    result = ingest_corpus(limited)
    assert result.documents["doc_id"].to_list() == sorted(everything)[:4]
    assert result.stats.excluded_by_max_documents == len(everything) - 4


@pytest.mark.parametrize("table", ["documents.parquet", "quarantine.parquet"])
def test_an_unreadable_stored_shard_is_read_again_with_a_warning(
    watched: FactoryConfig, table: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = ShardStore(watched.home_dir / "shards")
    source = shard_sources(watched)["a.jsonl"]
    first = store.ensure(watched, source)
    stored = watched.home_dir / "shards" / "a.jsonl" / table
    data = stored.read_bytes()
    stored.write_bytes(data[: len(data) // 2])  # a crash mid-write, before atomic writes fsynced
    with caplog.at_level("WARNING", logger="factory.corpus.shards"):
        again = store.ensure(watched, source)
    assert again.reused is False
    assert again.result.documents.drop("ingested_at").equals(
        first.result.documents.drop("ingested_at")
    )
    assert f"{table} is not a readable Parquet file" in caplog.text
    assert "read again from its source" in caplog.text
    assert store.ensure(watched, source).reused is True  # the rewrite is whole again


def test_a_damaged_shard_json_is_read_again_with_a_warning(
    watched: FactoryConfig, caplog: pytest.LogCaptureFixture
) -> None:
    store = ShardStore(watched.home_dir / "shards")
    source = shard_sources(watched)["a.jsonl"]
    store.ensure(watched, source)
    info = watched.home_dir / "shards" / "a.jsonl" / "shard.json"
    info.write_text(info.read_text()[:30])
    with caplog.at_level("WARNING", logger="factory.corpus.shards"):
        assert store.ensure(watched, source).reused is False
    assert "shard.json is damaged" in caplog.text
    assert store.ensure(watched, source).reused is True
