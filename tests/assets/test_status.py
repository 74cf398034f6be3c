"""`factory status` rows: each asset's latest materialization, or "never"."""

from __future__ import annotations

import dagster as dg

from assets.status import asset_status


def test_every_asset_is_listed_with_its_latest_materialization() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        before = {row.asset: row for row in asset_status(instance)}
        assert {"corpus_documents", "coverage_gaps", "dataset_release"} <= set(before)
        assert all(row.materialized == "never" for row in before.values())
        instance.report_runless_asset_event(
            dg.AssetMaterialization("clusters", metadata={"dagster/row_count": 17})
        )
        after = {row.asset: row for row in asset_status(instance)}
    assert after["clusters"].rows == "17"
    assert after["clusters"].materialized.endswith("UTC")
    assert after["semantic_map"].materialized == "never"
