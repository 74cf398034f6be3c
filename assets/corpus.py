"""Corpus layer: `corpus_documents` and `corpus_quarantine`."""

from collections.abc import Iterator

import dagster as dg

from assets.lineage_step import lineage_step
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from assets.shards import shard_store
from factory.corpus import merge_stored_shards
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import CORPUS_DOCUMENTS, CORPUS_QUARANTINE
from factory.storage import read_table

__all__ = ["CORPUS_CODE_VERSION", "corpus"]

CORPUS_CODE_VERSION = "corpus-v2"
_CONTENT_COLUMNS = ["doc_id", "label", "answer", "split", "source_id", "license"]


@dg.multi_asset(
    outs={
        "corpus_documents": dg.AssetOut(
            description="Normalized, de-duplicated documents with content-hash ids and splits.",
            code_version=CORPUS_CODE_VERSION,
            group_name="corpus",
        ),
        "corpus_quarantine": dg.AssetOut(
            description="Rows that did not become documents, with file, line and reason.",
            code_version=CORPUS_CODE_VERSION,
            group_name="corpus",
        ),
    },
    deps=[
        dg.AssetDep(name, partition_mapping=dg.AllPartitionMapping())
        for name in ("shard_documents", "shard_quarantine", "shard_embeddings")
    ],
)
def corpus(context: dg.AssetExecutionContext, factory: FactoryResource) -> Iterator[dg.Output]:
    """Merge every shard (configured sources, then watched files) into documents and a
    quarantine; a shard not yet ingested, or whose inputs changed, is read here."""
    config = factory.config
    with lineage_step(context, factory, "corpus_documents", CORPUS_CODE_VERSION, []) as step:
        previous = read_table(factory.home, "corpus_documents")
        merged = merge_stored_shards(
            config, shard_store(factory), factory.home.lancedb, previous, context.log.info
        )
        result = merged.result
        context.log.info(
            f"{len(merged.reused)} shards merged; read from source: {merged.read or 'none'}"
        )
        params = config.ingest.model_dump(mode="json") | {"splits": config.splits.model_dump()}
        docs_version = fingerprint(
            CORPUS_CODE_VERSION,
            params,
            frame_fingerprint(result.documents, ["text", *_CONTENT_COLUMNS]),
        )
        quarantine = result.quarantine
        quarantine_version = fingerprint(
            CORPUS_CODE_VERSION, params, frame_fingerprint(quarantine, quarantine.columns)
        )
        step.params = params | {
            "sources": [s.model_dump(mode="json") for s in config.sources],
            "task": config.task.kind,
        }
        step.output("corpus_documents", result.documents, CORPUS_DOCUMENTS, docs_version)
        step.output("corpus_quarantine", quarantine, CORPUS_QUARANTINE, quarantine_version)
        step.summary = f"{result.documents.height} documents, {quarantine.height} quarantined"
    stats = result.stats.as_metadata()
    context.log.info(f"ingested {stats['accepted']} documents, quarantined {stats['quarantined']}")
    for source_id in stats["unlicensed_sources"]:
        context.log.warning(f"source {source_id!r} declares no license; its rows are 'unknown'")
    yield dg.Output(
        result.documents,
        "corpus_documents",
        data_version=dg.DataVersion(docs_version),
        metadata={
            **table_metadata(result.documents, CORPUS_DOCUMENTS, ["doc_id", "split", "text"]),
            "task_kind": config.task.kind,
            "shards": dg.MetadataValue.json(
                {name: "reused" if was else "read" for name, was in merged.reused.items()}
            ),
            "stats": dg.MetadataValue.json(stats),
            "splits": dg.MetadataValue.json(stats["splits"]),
        },
    )
    yield dg.Output(
        quarantine,
        "corpus_quarantine",
        data_version=dg.DataVersion(quarantine_version),
        metadata={
            **table_metadata(quarantine, CORPUS_QUARANTINE, ["source_uri", "line", "reason"]),
            "reasons": dg.MetadataValue.json(stats["quarantine_reasons"]),
        },
    )
