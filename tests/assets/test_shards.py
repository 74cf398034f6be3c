"""The shard partitions: the sensor, the `ingest` job, and a corpus merged from stored shards."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.definitions import ALL_ASSETS, build_resources, defs
from assets.pipeline import ingest_shards
from assets.resources import FactoryResource
from assets.shards import SHARD_PARTITION, shard_sensor, stale_shards
from factory.config import load_config


def _shard_file(path: Path, topic: str, count: int) -> None:
    rows = [
        {"text": f"How do I {topic} with my card, question {i} of the shard?"} for i in range(count)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _shard_file(inbox / "cards.jsonl", "pay", 12)
    _shard_file(inbox / "transfers.jsonl", "transfer money", 9)
    config = {
        "home": "home",
        "sources": [],
        "ingest": {"watch": {"folder": "inbox", "license": "CC0-1.0", "interval_seconds": 5}},
    }
    path = tmp_path / "factory.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_sensor_registers_new_shards_and_requests_each_once(project: Path) -> None:
    with dg.instance_for_test() as instance:
        resources = {"factory": FactoryResource(config_path=str(project))}
        with dg.build_sensor_context(
            instance=instance, resources=resources, definitions=defs
        ) as context:
            result = shard_sensor(context)
            assert isinstance(result, dg.SensorResult)
            (added,) = result.dynamic_partitions_requests or []
            assert list(added.partition_keys) == ["cards.jsonl", "transfers.jsonl"]  # type: ignore[union-attr]
            requests = result.run_requests or []
            assert [r.partition_key for r in requests] == ["cards.jsonl", "transfers.jsonl"]
            keys = {r.partition_key: r.run_key for r in requests}

            instance.add_dynamic_partitions(SHARD_PARTITION, ["cards.jsonl", "transfers.jsonl"])
            _shard_file(project.parent / "inbox" / "loans.jsonl", "repay a loan", 4)
            again = shard_sensor(context)
            (added,) = again.dynamic_partitions_requests or []
            assert list(added.partition_keys) == ["loans.jsonl"]  # type: ignore[union-attr]
            run_keys = {r.partition_key: r.run_key for r in again.run_requests or []}
            assert {k: run_keys[k] for k in keys} == keys  # unchanged shards: the same run keys
            assert run_keys["loans.jsonl"] not in keys.values()


def test_a_new_shard_is_ingested_without_redoing_the_others(project: Path) -> None:
    config = load_config(project)
    resources = build_resources(str(project))
    with dg.instance_for_test() as instance:
        assert ingest_shards(instance, config, resources) == ["cards.jsonl", "transfers.jsonl"]
        assert stale_shards(instance, config) == []
        assert ingest_shards(instance, config, resources) == []

        _shard_file(project.parent / "inbox" / "loans.jsonl", "repay a loan", 4)
        config = load_config(project)
        assert stale_shards(instance, config) == ["loans.jsonl"]
        assert ingest_shards(instance, config, resources) == ["loans.jsonl"]
        assert set(instance.get_dynamic_partitions(SHARD_PARTITION)) == {
            "cards.jsonl",
            "transfers.jsonl",
            "loans.jsonl",
        }

        result = dg.materialize(
            ALL_ASSETS,
            resources=resources,
            instance=instance,
            selection=["corpus_documents", "corpus_quarantine", "document_embeddings"],
        )
        assert result.success
        (corpus,) = [
            e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("corpus_documents")
        ]
        assert corpus["shards"].value == {
            name: "reused" for name in ("cards.jsonl", "transfers.jsonl", "loans.jsonl")
        }  # type: ignore[union-attr]
        (embeddings,) = [
            e.materialization.metadata
            for e in result.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("document_embeddings")
        ]
        assert embeddings["embedded"].value == 0  # every shard's vectors were already cached
        assert embeddings["from_cache"].value == 12 + 9 + 4
        documents = pl.read_parquet(project.parent / "home" / "tables" / "corpus_documents.parquet")
        assert documents["source_id"].value_counts().sort("source_id").rows() == [
            ("cards.jsonl", 12),
            ("loans.jsonl", 4),
            ("transfers.jsonl", 9),
        ]
