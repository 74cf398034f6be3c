"""Shard layer: the corpus and its embeddings, one dynamic partition `shard` per source or
watched file.

`shard_documents` + `shard_quarantine` ingest one shard into the shard store
(`HOME/shards/<shard>`), `shard_embeddings` embeds its documents into the embedding cache. A new
shard is ingested and embedded on its own; `corpus_documents` merges every shard in a fixed order
(reusing each stored shard whose inputs did not change), so the map and everything after it are
computed over all shards and never depend on the order the shards arrived in.

`shard_sensor` registers each new source or file dropped into `ingest.watch.folder` as a
partition and requests the `ingest` job for every shard whose inputs changed.
"""

from collections.abc import Iterator

import dagster as dg

from assets import console
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from factory.config import FactoryConfig, WatchConfig
from factory.corpus.shards import (
    SHARD_CODE_VERSION,
    ShardStore,
    StoredShard,
    shard_input_fingerprint,
)
from factory.corpus.sources import shard_sources
from factory.errors import ConfigError, FactoryError
from factory.schemas import CORPUS_DOCUMENTS, CORPUS_QUARANTINE

__all__ = [
    "INGEST_JOB",
    "SHARDS",
    "SHARD_ASSETS",
    "SHARD_PARTITION",
    "new_shards",
    "shard_embeddings",
    "shard_ingest",
    "shard_run_requests",
    "shard_sensor",
    "shard_store",
    "stale_shards",
]

SHARD_PARTITION = "shard"
SHARDS = dg.DynamicPartitionsDefinition(name=SHARD_PARTITION)


def shard_store(factory: FactoryResource) -> ShardStore:
    """The project's shard store, `HOME/shards`."""
    return ShardStore(factory.home.shards)


def _shard(context: dg.AssetExecutionContext, factory: FactoryResource) -> StoredShard:
    config = factory.config
    sources = shard_sources(config)
    name = context.partition_key
    if name not in sources:
        msg = (
            f"shard {name!r} is neither a configured source nor a file in ingest.watch.folder "
            f"(shards now: {sorted(sources)}); add it back or delete the partition"
        )
        raise ConfigError(msg)
    return shard_store(factory).ensure(config, sources[name])


@dg.multi_asset(
    outs={
        "shard_documents": dg.AssetOut(
            description="One shard's normalized documents (duplicates within it quarantined).",
            code_version=SHARD_CODE_VERSION,
            group_name="corpus",
            is_required=False,
        ),
        "shard_quarantine": dg.AssetOut(
            description="One shard's rejected rows, with file, line and reason.",
            code_version=SHARD_CODE_VERSION,
            group_name="corpus",
            is_required=False,
        ),
    },
    partitions_def=SHARDS,
    can_subset=False,
)
def shard_ingest(
    context: dg.AssetExecutionContext, factory: FactoryResource
) -> Iterator[dg.MaterializeResult]:
    """Read one shard's source into the shard store, unless it was read from the same inputs."""
    with console.layer("shard_ingest", context.partition_key) as shown:
        shard = _shard(context, factory)
        result = shard.result
        verb = "reused" if shard.reused else "ingested"
        shown.text = (
            f"{verb} {result.documents.height} documents, {result.quarantine.height} quarantined"
        )
    context.log.info(
        f"shard {shard.name!r} {verb}: {result.documents.height} documents, "
        f"{result.quarantine.height} quarantined"
    )
    common = {"input_fingerprint": shard.input_fingerprint, "reused": shard.reused}
    yield dg.MaterializeResult(
        asset_key="shard_documents",
        data_version=dg.DataVersion(shard.input_fingerprint),
        metadata={
            **table_metadata(result.documents, CORPUS_DOCUMENTS, ["doc_id", "split", "text"]),
            **common,
            "stats": dg.MetadataValue.json(result.stats.as_metadata()),
        },
    )
    yield dg.MaterializeResult(
        asset_key="shard_quarantine",
        data_version=dg.DataVersion(shard.input_fingerprint),
        metadata={
            **table_metadata(result.quarantine, CORPUS_QUARANTINE, ["source_uri", "reason"]),
            **common,
        },
    )


@dg.asset(
    partitions_def=SHARDS,
    deps=["shard_documents"],
    group_name="embeddings",
    code_version=SHARD_CODE_VERSION,
)
def shard_embeddings(
    context: dg.AssetExecutionContext, factory: FactoryResource
) -> dg.MaterializeResult:
    """One shard's embeddings in the embedding cache, so the merged corpus embeds nothing new.

    With `ingest.max_documents` (and no near-duplicate scan) only the shard's first documents by
    `doc_id` can reach the corpus, so only those are embedded."""
    from factory.embedding import EmbeddingStore, shared_embedder

    config = factory.config
    shard = _shard(context, factory)
    documents = shard.result.documents
    limit = config.ingest.max_documents
    if limit is not None and config.ingest.near_duplicate_threshold is None:
        documents = documents.head(limit)
    embedder = shared_embedder(config.embedding)
    store = EmbeddingStore(factory.home.lancedb)

    def progress(done: int, total: int) -> None:
        context.log.info(f"shard {shard.name!r}: embedded {done}/{total} new documents")
        console.progress("shard_embeddings", done, total, "documents", shard.name)

    with console.layer("shard_embeddings", shard.name) as shown:
        _, stats = store.embed_texts(
            documents["doc_id"].to_list(), documents["text"].to_list(), embedder, progress=progress
        )
        shown.text = f"{stats.embedded} embedded, {stats.cached} cached"
    context.log.info(f"shard {shard.name!r}: {stats.embedded} embedded, {stats.cached} cached")
    return dg.MaterializeResult(
        data_version=dg.DataVersion(f"{shard.input_fingerprint}:{embedder.fingerprint}"),
        metadata={
            "input_fingerprint": shard.input_fingerprint,
            "model": embedder.name,
            "model_fingerprint": embedder.fingerprint,
            "documents": documents.height,
            "embedded": stats.embedded,
            "from_cache": stats.cached,
            "seconds": round(stats.seconds, 2),
        },
    )


SHARD_ASSETS = [shard_ingest, shard_embeddings]
"""The `ingest` job's assets, partitioned by shard."""

INGEST_JOB = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(*SHARD_ASSETS),
    description="Ingest and embed one corpus shard (a source or a watched file); the shard "
    "sensor launches it for every new or changed shard.",
)


def stale_shards(instance: dg.DagsterInstance, config: FactoryConfig) -> list[str]:
    """The shards whose latest `shard_embeddings` materialization is missing or was made from
    other inputs, in merge order."""
    key = dg.AssetKey("shard_embeddings")
    stale = []
    for name, source in shard_sources(config).items():
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[name]), limit=1
        ).records
        made_from = None
        if records and records[0].asset_materialization is not None:
            entry = records[0].asset_materialization.metadata.get("input_fingerprint")
            made_from = entry.value if entry is not None else None
        if made_from != shard_input_fingerprint(source, config):
            stale.append(name)
    return stale


def new_shards(instance: dg.DagsterInstance, config: FactoryConfig) -> list[str]:
    """The shards of `config` not yet registered as partitions, in merge order."""
    known = set(instance.get_dynamic_partitions(SHARD_PARTITION))
    return [name for name in shard_sources(config) if name not in known]


def shard_run_requests(
    instance: dg.DagsterInstance, config: FactoryConfig
) -> tuple[list[str], list[dg.RunRequest]]:
    """The shards to register as partitions, and one run request per shard keyed by its input
    fingerprint (Dagster skips a request whose key it has already launched)."""
    sources = shard_sources(config)
    requests = [
        dg.RunRequest(
            run_key=f"{name}:{shard_input_fingerprint(source, config)}",
            partition_key=name,
            tags={"factory/shard": name},
        )
        for name, source in sources.items()
    ]
    return new_shards(instance, config), requests


def _interval_seconds() -> int:
    try:
        return FactoryResource().config.ingest.watch.interval_seconds
    except FactoryError:  # a broken config is reported when the sensor or an asset reads it
        return WatchConfig().interval_seconds


@dg.sensor(
    job=INGEST_JOB,
    minimum_interval_seconds=_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Registers every configured source and every file dropped into "
    "ingest.watch.folder as a shard partition, and launches the ingest job for each new or "
    "changed shard.",
)
def shard_sensor(context: dg.SensorEvaluationContext, factory: FactoryResource) -> dg.SensorResult:
    """One look at the configured sources and the watched folder."""
    new, requests = shard_run_requests(context.instance, factory.config)
    if new:
        context.log.info(f"new shards: {new}")
    added = [SHARDS.build_add_request(new)] if new else []
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=added)
