"""`lineage_step` and `quality_recorder`: what they write, and nothing when lineage is off."""

# No `from __future__ import annotations` here: Dagster reads the probe assets' annotations.

from pathlib import Path
from types import SimpleNamespace

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.lineage_step import LineageStep, lineage_step, quality_recorder
from assets.resources import FactoryResource
from factory.home import Home
from factory.schemas import Column, TableSchema
from lineage import Ledger, OpenLineageEmitter

PROBE = TableSchema("probe", (Column("n", pl.Int64, "a number"),))
SEEN: list[LineageStep] = []


@dg.asset
def probe_source(context: dg.AssetExecutionContext, factory: FactoryResource) -> dg.Output[int]:
    """Upstream of `probe`, with a data version."""
    with lineage_step(context, factory, "probe_source", "v1", []) as step:
        step.output("probe_source", pl.DataFrame({"n": [1, 2]}), PROBE, "source-version")
    return dg.Output(2, data_version=dg.DataVersion("source-version"))


@dg.asset
def probe(context: dg.AssetExecutionContext, factory: FactoryResource, probe_source: int) -> int:
    """Reads `probe_source`; fails when told to."""
    with lineage_step(context, factory, "probe", "v1", ["probe_source"]) as step:
        SEEN.append(step)
        if factory.config.home.endswith("fail"):
            raise RuntimeError("probe failed on purpose")
        step.params = {"k": 3}
        step.output("probe", pl.DataFrame({"n": [probe_source]}), PROBE, "probe-version")
    return probe_source


def _factory(tmp_path: Path, enabled: bool, home: str = "home") -> FactoryResource:
    path = tmp_path / "factory.yaml"
    path.write_text(yaml.safe_dump({"home": home, "lineage": {"enabled": enabled}}))
    return FactoryResource(config_path=str(path))


def _materialize(factory: FactoryResource) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [probe_source, probe],
        resources={"factory": factory},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.mark.parametrize("enabled", [True, False])
def test_events_and_ledger_records_follow_the_switch(tmp_path: Path, enabled: bool) -> None:
    SEEN.clear()
    factory = _factory(tmp_path, enabled)
    assert _materialize(factory).success
    home = tmp_path / "home"
    # the body sees the same step either way: its input and that input's stored version
    assert [(s.inputs[0].name, s.input_versions) for s in SEEN] == [
        ("probe_source", {"probe_source": "source-version"})
    ]
    if not enabled:
        assert not (home / "provenance").exists()
        return
    records = Ledger(Home(home).ledger).records("materialization")
    assert [r["body"]["asset"] for r in records] == ["probe_source", "probe"]
    assert records[1]["body"]["inputs"] == {"probe_source": "source-version"}
    assert records[1]["body"]["outputs"] == {"probe": {"data_version": "probe-version", "rows": 1}}
    assert records[1]["body"]["params"] == {"k": 3}
    assert Ledger(Home(home).ledger).verify().ok
    events = OpenLineageEmitter(Home(home).openlineage).events()
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        ("probe_source", "START"),
        ("probe_source", "COMPLETE"),
        ("probe", "START"),
        ("probe", "COMPLETE"),
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_a_failed_body_emits_fail_only_when_enabled(tmp_path: Path, enabled: bool) -> None:
    factory = _factory(tmp_path, enabled, home="home-fail")
    result = _materialize(factory)
    assert not result.success
    home = tmp_path / "home-fail"
    if not enabled:
        assert not (home / "provenance").exists()
        return
    events = OpenLineageEmitter(Home(home).openlineage).events()
    assert [(e["job"]["name"], e["eventType"]) for e in events][-1] == ("probe", "FAIL")
    records = Ledger(Home(home).ledger).records("materialization")
    assert [r["body"]["asset"] for r in records] == ["probe_source"]


@pytest.mark.parametrize("enabled", [True, False])
def test_quality_recorder_follows_the_switch(tmp_path: Path, enabled: bool) -> None:
    factory = _factory(tmp_path, enabled)
    instance = dg.DagsterInstance.ephemeral()
    context = SimpleNamespace(
        resources=SimpleNamespace(factory=factory),
        run=SimpleNamespace(run_id="run-1"),
        has_partition_key=False,
        partition_key=None,
        instance=instance,
    )
    report = SimpleNamespace(passed=True, checks=[], gx_results={})
    quality_recorder()(context, report)
    path = Home(tmp_path / "home").ledger
    if not enabled:
        assert not path.exists()
        return
    (record,) = Ledger(path).records("quality_check")
    assert record["body"]["passed"] is True
    assert record["body"]["asset"] == "synthetic_samples"
