"""Great Expectations 1.x suites over measured metrics: one suite per check family.

`run_suites` turns measurements and thresholds into one validation per family: a one-row
frame of the family's applicable metrics, validated by a suite of factory's custom expectations
(`checks.expectations`, registered by importing this module). Each check's verdict is read back
from the GX result, so what Data Docs shows is what gates the pipeline. A check that does not
apply (no labels, no targets, insufficient evidence) is recorded with its reason and passes.

Example:
    >>> report = run_suites(measured, thresholds, blocking=DEFAULT_BLOCKING)  # doctest: +SKIP
    >>> [c.name for c in report.failed_blocking()]  # doctest: +SKIP
    []
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import great_expectations as gx
import pandas as pd

from checks.expectations import ExpectQualityMetricAtLeast, ExpectQualityMetricAtMost
from checks.measure import Measurement
from checks.specs import FAMILIES, SPECS, CheckSpec, check_names
from checks.thresholds import Threshold
from factory.errors import FactoryError

__all__ = ["CheckResult", "SuiteReport", "build_suite", "run_suites", "suite_frame"]


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict: observed value, threshold, pass/fail, whether it blocks, and why."""

    name: str
    family: str
    metric: str
    bound: str
    observed: float | None
    threshold: float | None
    passed: bool
    blocking: bool
    applicable: bool
    rows: int
    derivation: str
    note: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form, `status` included."""
        return {**asdict(self), "status": self.status}

    @property
    def status(self) -> str:
        """ "passed", "failed", or "not applicable"."""
        if not self.applicable:
            return "not applicable"
        return "passed" if self.passed else "failed"

    def sentence(self) -> str:
        """One line for logs and the UI."""
        if not self.applicable:
            return f"{self.name}: not applicable ({self.note})"
        word = "at most" if self.bound == "max" else "at least"
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"{self.name} {verdict}: {self.metric} = {_show(self.observed)}, must be {word} "
            f"{_show(self.threshold)} ({self.derivation})"
        )


@dataclass
class SuiteReport:
    """Every check's result, each family's GX result JSON, and the time taken."""

    checks: list[CheckResult]
    gx_results: dict[str, dict[str, Any]]
    seconds: float = 0.0
    docs: dict[str, str] = field(default_factory=dict)

    def failed_blocking(self) -> list[CheckResult]:
        """Applicable blocking checks that failed."""
        return [c for c in self.checks if c.applicable and c.blocking and not c.passed]

    def by_name(self) -> dict[str, CheckResult]:
        """Results keyed by check name."""
        return {c.name: c for c in self.checks}

    @property
    def passed(self) -> bool:
        """True when no blocking check failed."""
        return not self.failed_blocking()

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form (GX results included)."""
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "checks": [c.as_dict() for c in self.checks],
            "gx_results": self.gx_results,
            "docs": self.docs,
        }


def _applicable(measurement: Measurement | None, threshold: Threshold) -> bool:
    if measurement is None or measurement.value is None or threshold.value is None:
        return False
    return math.isfinite(measurement.value)


def suite_frame(family: str, measured: Mapping[str, Measurement],
                thresholds: Mapping[str, Threshold]) -> pd.DataFrame:  # fmt: skip
    """The one-row frame a family's suite validates: one column per applicable metric."""
    row = {
        SPECS[name].metric: float(measured[SPECS[name].metric].value)  # type: ignore[arg-type]
        for name in check_names(family)
        if _applicable(measured.get(SPECS[name].metric), thresholds[name])
    }
    return pd.DataFrame([row]) if row else pd.DataFrame([{"_empty": 0.0}])


def build_suite(family: str, measured: Mapping[str, Measurement],
                thresholds: Mapping[str, Threshold]) -> gx.ExpectationSuite:  # fmt: skip
    """The suite `factory_<family>`: one custom expectation per applicable check."""
    expectations: list[Any] = []
    for name in check_names(family):
        spec, threshold = SPECS[name], thresholds[name]
        if not _applicable(measured.get(spec.metric), threshold):
            continue
        meta = {"check": name, "family": family, "derivation": threshold.derivation}
        if spec.bound == "max":
            expectations.append(
                ExpectQualityMetricAtMost(
                    column=spec.metric, max_value=threshold.value, description=spec.description,
                    meta=meta,
                )
            )  # fmt: skip
        else:
            expectations.append(
                ExpectQualityMetricAtLeast(
                    column=spec.metric, min_value=threshold.value, description=spec.description,
                    meta=meta,
                )
            )  # fmt: skip
    return gx.ExpectationSuite(name=f"factory_{family}", expectations=expectations)


def run_suites(
    measured: Mapping[str, Measurement],
    thresholds: Mapping[str, Threshold],
    blocking: Collection[str],
    validator: Any = None,
) -> SuiteReport:
    """Validate every family's suite and read each check's verdict back from GX.

    `validator(family, suite, frame) -> result JSON` runs one validation; the default is an
    ephemeral context (`checks.datadocs.DocsProject.validate` also stores and renders it).
    """
    start = time.perf_counter()
    run = validator or validate_ephemeral
    checks: list[CheckResult] = []
    gx_results: dict[str, dict[str, Any]] = {}
    for family in FAMILIES:
        suite = build_suite(family, measured, thresholds)
        result = run(family, suite, suite_frame(family, measured, thresholds))
        gx_results[family] = result
        verdicts = _verdicts(result)
        for name in check_names(family):
            checks.append(_result(SPECS[name], measured, thresholds[name], verdicts, blocking))
    return SuiteReport(checks, gx_results, time.perf_counter() - start)


def validate_ephemeral(family: str, suite: gx.ExpectationSuite, frame: pd.DataFrame) -> dict:
    """Run `suite` on `frame` in a fresh ephemeral context; the ValidationResult as JSON."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("factory")
        .add_dataframe_asset(f"{family}_metrics")
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame})
    return dict(result.to_json_dict())


def _verdicts(result: Mapping[str, Any]) -> dict[str, tuple[bool, Any]]:
    out: dict[str, tuple[bool, Any]] = {}
    for res in result.get("results", []):
        config = res.get("expectation_config", {}) or {}
        name = (config.get("meta") or {}).get("check")
        if name:
            observed = (res.get("result") or {}).get("observed_value")
            out[name] = (bool(res.get("success")), observed)
    return out


def _result(
    spec: CheckSpec,
    measured: Mapping[str, Measurement],
    threshold: Threshold,
    verdicts: Mapping[str, tuple[bool, Any]],
    blocking: Collection[str],
) -> CheckResult:
    measurement = measured.get(spec.metric)
    applicable = _applicable(measurement, threshold)
    if applicable and spec.name not in verdicts:
        msg = (
            f"the Great Expectations result of family {spec.family!r} has no verdict for check "
            f"{spec.name!r}; is checks.expectations imported and the suite complete?"
        )
        raise FactoryError(msg)
    note = ""
    if measurement is not None and measurement.note:
        note = measurement.note
    elif threshold.value is None:
        note = threshold.derivation
    passed = verdicts[spec.name][0] if applicable else True
    return CheckResult(
        name=spec.name,
        family=spec.family,
        metric=spec.metric,
        bound=spec.bound,
        observed=None if measurement is None else measurement.value,
        threshold=threshold.value,
        passed=passed,
        blocking=spec.name in blocking,
        applicable=applicable,
        rows=0 if measurement is None else measurement.rows,
        derivation=threshold.derivation,
        note=note,
        description=spec.description,
        details={} if measurement is None else dict(measurement.details),
    )


def _show(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}"
