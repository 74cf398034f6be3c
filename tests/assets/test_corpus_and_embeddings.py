"""`dg.materialize` of the corpus and embeddings layers with the real model on real data."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.definitions import ALL_ASSETS, build_resources
from factory.schemas import CORPUS_DOCUMENTS, DOCUMENT_EMBEDDINGS


def _write_config(tmp_path: Path, csv_path: Path) -> Path:
    config = {
        "home": "home",
        "task": {"kind": "classification"},
        "sources": [
            {
                "id": "banking77",
                "kind": "csv",
                "path": str(csv_path),
                "fields": {"category": "label"},
                "license": "CC-BY-4.0",
            }
        ],
    }
    path = tmp_path / "factory.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _materialize(config: Path, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        ALL_ASSETS,
        resources=build_resources(str(config)),
        instance=instance,
        selection=["corpus_documents", "corpus_quarantine", "document_embeddings"],
    )
    assert result.success
    return result


def _metadata(result: dg.ExecuteInProcessResult, key: str) -> dict[str, object]:
    for event in result.get_asset_materialization_events():
        if event.asset_key == dg.AssetKey(key):
            return {k: v.value for k, v in event.materialization.metadata.items()}
    raise AssertionError(f"{key} not materialized")


@pytest.fixture
def instance() -> dg.DagsterInstance:
    return dg.DagsterInstance.ephemeral()


def test_materialize_corpus_and_embeddings_incrementally(
    tmp_path: Path, banking77_dir: Path, instance: dg.DagsterInstance
) -> None:
    lines = (banking77_dir / "train.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    csv_path = tmp_path / "slice.csv"
    stray_quote = '"a stray quote opens this field,card_arrival\n'
    csv_path.write_text("".join(lines[:201]) + stray_quote, encoding="utf-8")
    config = _write_config(tmp_path, csv_path)

    first = _materialize(config, instance)
    docs = pl.read_parquet(tmp_path / "home" / "tables" / "corpus_documents.parquet")
    quarantine = pl.read_parquet(tmp_path / "home" / "tables" / "corpus_quarantine.parquet")
    CORPUS_DOCUMENTS.validate(docs)
    assert docs.height + quarantine.height == 201
    assert quarantine["reason"].str.starts_with("malformed CSV").any()
    meta = _metadata(first, "document_embeddings")
    assert meta["embedded"] == docs.height
    assert meta["from_cache"] == 0
    assert meta["dagster/row_count"] == docs.height

    from factory.embedding import EmbeddingStore

    vectors = EmbeddingStore(tmp_path / "home" / "lancedb").read_embeddings()
    DOCUMENT_EMBEDDINGS.validate(vectors)
    assert sorted(vectors["doc_id"]) == sorted(docs["doc_id"])

    second = _materialize(config, instance)
    meta2 = _metadata(second, "document_embeddings")
    assert meta2["embedded"] == 0
    assert meta2["from_cache"] == docs.height
    versions = [instance.get_latest_data_version_record(dg.AssetKey("corpus_documents"))]
    assert versions

    csv_path.write_text("".join(lines[:211]), encoding="utf-8")
    third = _materialize(config, instance)
    grown = pl.read_parquet(tmp_path / "home" / "tables" / "corpus_documents.parquet")
    meta3 = _metadata(third, "document_embeddings")
    assert meta3["embedded"] == grown.height - docs.height
    assert meta3["embedded"] + meta3["from_cache"] == grown.height


def test_data_version_follows_content_not_time(tmp_path: Path, banking77_slice: Path) -> None:
    config = _write_config(tmp_path, banking77_slice)
    instance = dg.DagsterInstance.ephemeral()
    versions = []
    for _ in range(2):
        result = dg.materialize(
            ALL_ASSETS,
            resources=build_resources(str(config)),
            instance=instance,
            selection=["corpus_documents", "corpus_quarantine"],
        )
        assert result.success
        record = instance.get_latest_materialization_event(dg.AssetKey("corpus_documents"))
        versions.append(record.asset_materialization.tags["dagster/data_version"])
    assert versions[0] == versions[1]
