"""The one adapter between Dagster materializations and the lineage record.

Every asset body runs inside `lineage_step(...)`: it emits an OpenLineage START event, then on
success a COMPLETE event and one hash-chained ledger record (asset, run, code version, data
versions of outputs and inputs, parameters, model fingerprints), or a FAIL event on error.
With `lineage.enabled: false` it emits and appends nothing; the body runs the same and sees the
same `LineageStep` (inputs and their stored versions included).
"""

import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import polars as pl

from assets.console import layer
from assets.resources import FactoryResource
from factory.schemas import TableSchema
from lineage import DatasetRef, Ledger, OpenLineageEmitter

__all__ = [
    "LineageStep",
    "lineage_step",
    "quality_recorder",
    "stored_version",
]

NAMESPACE = "factory"


@dataclass
class LineageStep:
    """What one materialization read and wrote, collected while it runs."""

    job: str
    code_version: str
    inputs: list[DatasetRef]
    input_versions: dict[str, str | None]
    params: dict[str, Any] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    outputs: list[DatasetRef] = field(default_factory=list)
    summary: str = ""
    """The layer's key figure for the console line (default: its outputs' row counts)."""

    def output(self, name: str, frame: pl.DataFrame, schema: TableSchema, version: str) -> None:
        """Record an output table with its schema, version and row count."""
        fields = [(c.name, str(c.dtype), c.meaning) for c in schema.columns]
        self.outputs.append(DatasetRef(NAMESPACE, name, fields, version, schema.name, frame.height))

    def read(self, name: str, version: str | None) -> None:
        """Record one more input, read outside Dagster's inputs (an earlier round's table)."""
        self.inputs.append(DatasetRef(NAMESPACE, name, version=version))
        self.input_versions[name] = version


def stored_version(
    context: dg.AssetExecutionContext, name: str, partition: str | None = None
) -> str | None:
    """The data version of asset `name`'s latest materialization, of `partition` when given
    (else of this run's partition, falling back to the unpartitioned latest)."""
    instance = context.instance
    key = dg.AssetKey(name)
    wanted = partition or (context.partition_key if context.has_partition_key else None)
    if wanted is not None:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[wanted]), limit=1
        ).records
        if records or partition is not None:
            event = records[0].event_log_entry.asset_materialization if records else None
            return None if event is None else (event.tags or {}).get("dagster/data_version")
    latest = instance.get_latest_materialization_event(key)
    if latest is None or latest.asset_materialization is None:
        return None
    return (latest.asset_materialization.tags or {}).get("dagster/data_version")


def _current_run(context: dg.AssetExecutionContext) -> dg.DagsterRun | None:
    try:
        return context.run
    except dg.DagsterError:  # direct invocation has no run
        return None


@contextmanager
def lineage_step(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    job: str,
    code_version: str,
    inputs: list[str],
) -> Iterator[LineageStep]:
    """Wrap one asset body: START now, COMPLETE + ledger record on success, FAIL on error
    (nothing when `lineage.enabled` is false); the console shows the layer start and end."""
    with layer(job) as shown, _recorded_step(context, factory, job, code_version, inputs) as step:
        yield step
        shown.text = step.summary or _row_counts(step)


def _row_counts(step: LineageStep) -> str:
    return ", ".join(f"{ref.row_count} {ref.name} rows" for ref in step.outputs)


@contextmanager
def _recorded_step(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    job: str,
    code_version: str,
    inputs: list[str],
) -> Iterator[LineageStep]:
    dagster_run = _current_run(context)
    if dagster_run is None:  # an asset body called directly (unit tests): no run, no record
        yield LineageStep(job, code_version, [], {})
        return
    versions = {name: stored_version(context, name) for name in inputs}
    refs = [DatasetRef(NAMESPACE, name, version=versions[name]) for name in inputs]
    step = LineageStep(job, code_version, refs, versions)
    if not factory.config.lineage.enabled:  # provenance off: the same step, nothing written
        yield step
        return
    home = factory.home
    emitter = OpenLineageEmitter(home.openlineage, namespace=NAMESPACE)
    run_id = str(uuid.uuid5(uuid.UUID(dagster_run.run_id), job))
    parent = (dagster_run.run_id, dagster_run.job_name)
    emitter.start(run_id, job, refs, parent=parent)
    try:
        yield step
    except BaseException as exc:
        message = f"{type(exc).__name__}: {exc}"
        emitter.fail(run_id, job, message, stack_trace=traceback.format_exc(), parent=parent)
        raise
    emitter.complete(run_id, job, refs, step.outputs, parent=parent)
    Ledger(home.ledger).append(
        "materialization",
        {
            "asset": job,
            "dagster_run_id": dagster_run.run_id,
            "openlineage_run_id": run_id,
            "code_version": code_version,
            "outputs": {
                ref.name: {"data_version": ref.version, "rows": ref.row_count}
                for ref in step.outputs
            },
            "inputs": versions,
            "params": step.params,
            "models": step.models,
        },
    )


def quality_recorder(factory_key: str = "factory") -> Any:
    """An `assets.quality_checks` recorder: one ledger record per quality-gate run (none when
    `lineage.enabled` is false)."""

    def record(context: dg.AssetCheckExecutionContext, report: Any) -> None:
        factory = getattr(context.resources, factory_key)
        if not factory.config.lineage.enabled:
            return
        asset = "synthetic_samples"
        Ledger(factory.home.ledger).append(
            "quality_check",
            {
                "asset": asset,
                "dagster_run_id": context.run.run_id,
                "round": context.partition_key if context.has_partition_key else None,
                "data_version": stored_version(context, asset),  # type: ignore[arg-type]
                "passed": report.passed,
                "checks": [
                    {
                        "name": c.name,
                        "family": c.family,
                        "status": c.status,
                        "observed": c.observed,
                        "threshold": c.threshold,
                        "blocking": c.blocking,
                        "derivation": c.derivation,
                    }
                    for c in report.checks
                ],
                "gx_results": {
                    family: result.get("factory_meta", {})
                    for family, result in report.gx_results.items()
                },
            },
        )

    return record
