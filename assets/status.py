"""What is materialized: each asset's latest materialization on the project's Dagster instance."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple

import dagster as dg

from assets.definitions import defs

__all__ = ["AssetStatus", "asset_status"]


class AssetStatus(NamedTuple):
    """One asset's latest materialization, as text ("never" and blanks when it has none)."""

    asset: str
    partition: str
    materialized: str
    data_version: str
    rows: str
    run: str


def asset_status(instance: dg.DagsterInstance | None = None) -> list[AssetStatus]:
    """Every asset of the definitions, by key: when, data version (12 characters), row count and
    run (8 characters) of its latest materialization on `instance` (default: $DAGSTER_HOME's)."""
    if instance is None:
        with dg.DagsterInstance.get() as owned:
            return asset_status(owned)
    graph = defs.resolve_asset_graph()
    rows = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        event = instance.get_latest_materialization_event(key)
        if event is None or event.asset_materialization is None:
            rows.append(AssetStatus(key.to_user_string(), "", "never", "", "", ""))
            continue
        mat = event.asset_materialization
        count = mat.metadata.get("dagster/row_count")
        version = mat.tags.get("dagster/data_version", "") if mat.tags else ""
        rows.append(
            AssetStatus(
                asset=key.to_user_string(),
                partition=mat.partition or "",
                materialized=_format_time(event.timestamp),
                data_version=version[:12],
                rows=str(count.value) if count is not None else "",
                run=event.run_id[:8],
            )
        )
    return rows


def _format_time(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
