"""Runs the CLI launches: the stale shards through the `ingest` job, then the pipeline."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from assets.definitions import SHARD_ASSETS
from assets.shards import SHARD_PARTITION, stale_shards
from factory.config import FactoryConfig
from factory.corpus.shards import shard_sources
from factory.errors import FactoryError

__all__ = ["ingest_shards"]


def ingest_shards(
    instance: dg.DagsterInstance,
    config: FactoryConfig,
    resources: Mapping[str, object],
    tags: Mapping[str, str] | None = None,
) -> list[str]:
    """Register every shard as a partition and materialize, one run each, those whose inputs
    changed since their last materialization; returns the shards materialized."""
    known = set(instance.get_dynamic_partitions(SHARD_PARTITION))
    new = [name for name in shard_sources(config) if name not in known]
    if new:
        instance.add_dynamic_partitions(SHARD_PARTITION, new)
    stale = stale_shards(instance, config)
    for name in stale:
        result = dg.materialize(
            SHARD_ASSETS,
            instance=instance,
            resources=resources,
            partition_key=name,
            raise_on_error=False,
            tags={"factory/shard": name, **(tags or {})},
        )
        if not result.success:
            failures = [
                event.event_specific_data.error.message.strip()  # type: ignore[union-attr]
                for event in result.get_step_failure_events()
            ]
            msg = f"ingesting shard {name!r} failed: {'; '.join(failures) or 'see the run log'}"
            raise FactoryError(msg)
    return stale
