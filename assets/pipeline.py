"""Runs the CLI launches: the stale shards through the `ingest` job, then the pipeline."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from assets.definitions import SHARD_ASSETS
from assets.shards import SHARD_PARTITION, new_shards, stale_shards
from factory.config import FactoryConfig
from factory.errors import FactoryError

__all__ = ["failure_message", "ingest_shards"]


def ingest_shards(
    instance: dg.DagsterInstance,
    config: FactoryConfig,
    resources: Mapping[str, object],
    tags: Mapping[str, str] | None = None,
) -> list[str]:
    """Register every shard as a partition and materialize, one run each, those whose inputs
    changed since their last materialization; returns the shards materialized."""
    new = new_shards(instance, config)
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
            msg = f"ingesting shard {name!r} failed: {failure_message(result)}"
            raise FactoryError(msg)
    return stale


def failure_message(result: object) -> str:
    """The deepest error message of the first failed step."""
    for event in getattr(result, "all_events", []):
        if not event.is_step_failure:
            continue
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        if error is not None:
            message = error.message.strip().splitlines()[-1] if error.message else error.cls_name
            for prefix in ("factory.errors.", f"{error.cls_name}: "):
                message = message.removeprefix(prefix)
            return f"step {event.step_key!r} failed: {message}"
    return "the run failed; see the Dagster UI for the logs"
