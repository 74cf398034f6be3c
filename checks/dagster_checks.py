"""Dagster asset checks on `synthetic_samples`: coherence, diversity, bias.

The only module of `checks` that imports dagster. Each check loads the samples,
`document_embeddings` and `corpus_documents`, calls `checks.gate.check_samples` and reports a
WARN-severity `AssetCheckResult` whose metadata holds `observed`, `threshold`, every observed
number as its own float entry, and `details`. The resource `factory`
(assets.resources.FactoryResource) supplies the configuration; it is required by key so that
`checks` never imports `assets`.

Example:
    >>> dg.materialize([*assets, *build_sample_checks()], resources=...)  # doctest: +SKIP
"""

# No `from __future__ import annotations` here: Dagster reads annotations at runtime.

from typing import Any

import dagster as dg
import polars as pl

from checks.gate import check_samples
from checks.suites import FAMILIES, CheckOutcome

__all__ = ["FAMILY_DESCRIPTIONS", "build_sample_checks", "check_result"]

FAMILY_DESCRIPTIONS = {
    "bias": "Protected-attribute term shares in samples vs the train corpus (Great Expectations).",
    "coherence": "Sample length and achieved cosine to the target, per row (Great Expectations).",
    "diversity": "Near-duplicate rate and spread of samples vs the train corpus (Great "
    "Expectations).",
}


def check_result(outcome: CheckOutcome) -> dg.AssetCheckResult:
    """The Dagster result of one outcome: WARN severity, observed/threshold/details metadata."""
    metadata: dict[str, Any] = {
        "observed": dg.MetadataValue.json(outcome.observed),
        "threshold": dg.MetadataValue.json(outcome.thresholds),
        "details": dg.MetadataValue.text(outcome.details),
        "expectations": dg.MetadataValue.json(outcome.expectations()),
        "seconds": dg.MetadataValue.float(round(outcome.seconds, 3)),
    }
    for key, value in outcome.observed.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            metadata[key] = dg.MetadataValue.float(float(value))
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=dg.AssetCheckSeverity.WARN, metadata=metadata
    )


def _build_check(family: str, asset_key: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=asset_key,
        name=family,
        description=FAMILY_DESCRIPTIONS[family],
        additional_ins={"document_embeddings": dg.AssetIn(), "corpus_documents": dg.AssetIn()},
        required_resource_keys={"factory"},
        blocking=False,
    )
    def _check(
        context: dg.AssetCheckExecutionContext,
        synthetic_samples: pl.DataFrame,
        document_embeddings: pl.DataFrame,
        corpus_documents: pl.DataFrame,
    ) -> dg.AssetCheckResult:
        config = context.resources.factory.config
        outcome = check_samples(
            family, synthetic_samples, corpus_documents, document_embeddings, config
        )
        context.log.info(outcome.details)
        return check_result(outcome)

    return _check


def build_sample_checks(asset_key: str = "synthetic_samples") -> list[dg.AssetChecksDefinition]:
    """One asset check per family (`bias`, `coherence`, `diversity`) on `asset_key`."""
    return [_build_check(family, asset_key) for family in FAMILIES]
