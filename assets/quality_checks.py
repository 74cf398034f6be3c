"""Dagster asset checks on `synthetic_samples`: one per quality check, run together in one step.

The Dagster side of `checks` (which never imports dagster). `build_quality_checks` returns one
`multi_asset_check` with an `AssetCheckSpec` per check of `checks.specs` (all `blocking=True`);
a failing check reports ERROR severity when it is blocking by config (so downstream assets of
the run do not execute) and WARN otherwise. Each result's metadata holds `observed`,
`threshold`, the derivation, and links to the GX result JSON and its Data Docs page. The
resource `factory` (assets.resources.FactoryResource) supplies the configuration;
`record(context, report)` writes the report to lineage (`assets.lineage_step.quality_recorder`).

Example:
    >>> dg.materialize([*assets, *build_quality_checks()], resources=...)  # doctest: +SKIP
"""

# No `from __future__ import annotations` here: Dagster reads annotations at runtime.

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import polars as pl

from assets import console
from checks.specs import DEFAULT_BLOCKING, SPECS

__all__ = ["build_quality_checks", "check_result"]

Recorder = Callable[[Any, Any], None]


def _description(name: str) -> str:
    spec = SPECS[name]
    default = "blocks by default" if name in DEFAULT_BLOCKING else "warns by default"
    return f"{spec.family}: {spec.description} ({default}; see docs/checks.md)"


def check_result(result: Any, asset_key: str, docs: dict[str, str]) -> dg.AssetCheckResult:
    """The Dagster result of one `checks.suites.CheckResult`."""
    metadata: dict[str, Any] = {
        "status": dg.MetadataValue.text(result.status),
        "observed": _number(result.observed),
        "threshold": _number(result.threshold),
        "bound": dg.MetadataValue.text("at most" if result.bound == "max" else "at least"),
        "metric": dg.MetadataValue.text(result.metric),
        "derivation": dg.MetadataValue.text(result.derivation),
        "blocking": dg.MetadataValue.bool(result.blocking),
        "rows": dg.MetadataValue.int(result.rows),
        "details": dg.MetadataValue.json(_plain(result.details)),
    }
    if result.note:
        metadata["note"] = dg.MetadataValue.text(result.note)
    if docs.get(result.family):
        metadata["data_docs"] = dg.MetadataValue.url(docs[result.family])
    if docs.get("index"):
        metadata["data_docs_index"] = dg.MetadataValue.url(docs["index"])
    if docs.get("report"):
        metadata["report_json"] = dg.MetadataValue.path(docs["report"])
    severity = dg.AssetCheckSeverity.ERROR if result.blocking else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=result.name,
        asset_key=dg.AssetKey(asset_key),
        passed=bool(result.passed),
        severity=severity,
        metadata=metadata,
        description=result.sentence(),
    )


def build_quality_checks(
    asset_key: str = "synthetic_samples",
    record: Recorder | None = None,
    partitions_def: dg.PartitionsDefinition | None = None,
) -> list[dg.AssetChecksDefinition]:
    """One multi-asset check (`quality_gates`) reporting every quality check on `asset_key`;
    `partitions_def` must be the asset's own (each partition is judged on its own)."""
    upstream = ["corpus_documents", "document_embeddings", "semantic_map", "coverage_gaps"]
    specs = [
        dg.AssetCheckSpec(
            name,
            asset=asset_key,
            description=_description(name),
            blocking=True,
            additional_deps=upstream,
            partitions_def=partitions_def,
        )
        for name in SPECS
    ]

    @dg.multi_asset_check(
        specs=specs,
        name="quality_gates",
        description="Coherence, diversity, bias, contamination and privacy checks (Great "
        "Expectations 1.x) on the accepted synthetic samples.",
        ins={"samples": dg.AssetIn(asset_key), **{name: dg.AssetIn(name) for name in upstream}},
        required_resource_keys={"factory"},
    )
    def quality_gates(
        context: dg.AssetCheckExecutionContext,
        samples: pl.DataFrame,
        corpus_documents: pl.DataFrame,
        document_embeddings: pl.DataFrame,
        semantic_map: pl.DataFrame,
        coverage_gaps: pl.DataFrame,
    ) -> Iterator[dg.AssetCheckResult]:
        from checks.pipeline import judge_synthetic

        config = context.resources.factory.config

        def progress(done: int, total: int) -> None:
            console.progress("quality_gates", done, total, "texts scored")

        with console.layer("quality_gates") as shown:
            report = judge_synthetic(
                samples,
                corpus_documents,
                document_embeddings,
                semantic_map,
                coverage_gaps,
                config,
                run_name=context.run.run_id,
                progress=progress,
            )
            statuses = [c.status for c in report.checks]
            blocking = report.failed_blocking()
            inapplicable = statuses.count("not applicable")
            shown.text = (
                f"{statuses.count('passed')} of {len(statuses)} checks passed"
                + (f" ({inapplicable} not applicable)" if inapplicable else "")
                + ", "
            ) + (
                "blocking checks all passed"
                if not blocking
                else f"blocking failed: {', '.join(c.name for c in blocking)}"
            )
        for result in report.checks:
            context.log.info(result.sentence())
        failed = report.failed_blocking()
        if failed:
            names = ", ".join(c.name for c in failed)
            context.log.error(f"blocking checks failed: {names}; downstream assets will not run")
        if record is not None:
            record(context, report)
        for result in report.checks:
            yield check_result(result, asset_key, report.docs)

    return [quality_gates]


def _number(value: float | None) -> dg.MetadataValue:
    if value is None:
        return dg.MetadataValue.text("n/a")
    return dg.MetadataValue.float(float(value))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:  # NaN is not JSON
        return None
    return value
