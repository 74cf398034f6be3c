"""Great Expectations 1.x suites over the metric frames: coherence, diversity and bias.

Each family builds its frame (`checks.frames`), validates it with a GX suite of built-in
expectations in an ephemeral context, and returns a `CheckOutcome`. GX is imported lazily, with
its analytics switched off.

Example:
    >>> outcome = run_family("diversity", samples, sample_vectors, corpus_texts, corpus_vectors,
    ...                      ChecksConfig())  # doctest: +SKIP
    >>> outcome.passed, outcome.observed["duplicate_rate"]  # doctest: +SKIP
    (True, 0.0)
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from checks.frames import bias_frame, coherence_frame, diversity_frame, sort_samples
from checks.verdicts import CRITERIA, DESCRIBE, OBSERVE
from factory.config import ChecksConfig
from factory.errors import ConfigError

__all__ = ["DEFAULT_MOSTLY", "FAMILIES", "CheckOutcome", "build_suite", "run_family", "validate"]

FAMILIES = ("bias", "coherence", "diversity")
DEFAULT_MOSTLY = 0.95
"""Share of rows that must meet each per-row coherence expectation."""


@dataclass(frozen=True)
class CheckOutcome:
    """The verdict of one check family: pass/fail, observed values, thresholds and the GX result."""

    family: str
    passed: bool
    observed: dict[str, Any]
    thresholds: dict[str, Any]
    result_json: dict[str, Any] = field(repr=False)
    details: str
    seconds: float = 0.0

    def criteria(self) -> list[dict[str, Any]]:
        """Each threshold beside the observed metric it bounds (`metric` None where none does)."""
        metrics = CRITERIA[self.family]
        return [
            {
                "name": name,
                "threshold": value,
                "metric": metrics.get(name),
                "observed": self.observed.get(metrics[name]) if name in metrics else None,
            }
            for name, value in self.thresholds.items()
        ]

    def expectations(self) -> list[dict[str, Any]]:
        """One short entry per expectation: type, column, success, unexpected percent."""
        out = []
        for res in self.result_json.get("results", []):
            config = res.get("expectation_config", {})
            result = res.get("result", {}) or {}
            out.append(
                {
                    "expectation": config.get("type"),
                    "column": config.get("kwargs", {}).get("column"),
                    "success": bool(res.get("success")),
                    "unexpected_percent": result.get("unexpected_percent"),
                    "observed_value": result.get("observed_value"),
                }
            )
        return out


def _gx() -> Any:
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    import great_expectations as gx

    return gx


def build_suite(family: str, config: ChecksConfig, mostly: float = DEFAULT_MOSTLY) -> Any:
    """The `gx.ExpectationSuite` of one family, named `factory_<family>`."""
    gx = _gx()
    e = gx.expectations
    if family == "coherence":
        expectations = [
            e.ExpectTableRowCountToBeBetween(min_value=1),
            e.ExpectColumnValuesToNotBeNull(column="sample_id"),
            e.ExpectColumnValuesToBeUnique(column="sample_id"),
            e.ExpectColumnValuesToNotBeNull(column="text"),
            e.ExpectColumnValueLengthsToBeBetween(
                column="text", min_value=config.min_chars, max_value=config.max_chars, mostly=mostly
            ),
            e.ExpectColumnValuesToNotBeNull(column="achieved_cosine", mostly=mostly),
            e.ExpectColumnValuesToBeBetween(
                column="achieved_cosine",
                min_value=config.min_target_cosine,
                max_value=1.0 + 1e-6,
                mostly=mostly,
            ),
        ]
    elif family == "diversity":
        expectations = [
            e.ExpectColumnValuesToNotBeNull(column="diversity_ratio"),
            e.ExpectColumnValuesToBeBetween(
                column="duplicate_rate", min_value=0.0, max_value=config.max_duplicate_rate
            ),
            e.ExpectColumnValuesToBeBetween(
                column="diversity_ratio", min_value=config.min_diversity_ratio
            ),
        ]
    elif family == "bias":
        expectations = [
            e.ExpectColumnValuesToBeUnique(column="group"),
            e.ExpectColumnValuesToBeBetween(column="ratio", max_value=config.max_bias_ratio),
        ]
    else:
        raise ConfigError(_unknown(family))
    return gx.ExpectationSuite(name=f"factory_{family}", expectations=expectations)


def validate(frame: pl.DataFrame, suite: Any) -> dict[str, Any]:
    """Run `suite` on `frame` in a fresh ephemeral GX context; the ValidationResult as JSON."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch = (
        context.data_sources.add_pandas("factory")
        .add_dataframe_asset(suite.name)
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    )
    result = definition.run(batch_parameters={"dataframe": frame.to_pandas()})
    return dict(result.to_json_dict())


def run_family(
    family: str,
    samples: pl.DataFrame,
    sample_vectors: np.ndarray,
    corpus_texts: Sequence[str],
    corpus_vectors: np.ndarray,
    config: ChecksConfig,
    *,
    mostly: float = DEFAULT_MOSTLY,
    lexicons: Mapping[str, set[str]] | None = None,
) -> CheckOutcome:
    """Build the family's frame from the metrics, validate it with GX and explain the verdict.

    `sample_vectors` is aligned with the rows of `samples`, shape (n, d); `corpus_vectors`
    shape (m, d) is the reference the samples are compared with.
    """
    if family not in FAMILIES:
        raise ConfigError(_unknown(family))
    start = time.perf_counter()
    samples, sample_vectors = sort_samples(samples, sample_vectors)
    texts: list[str | None] = samples["text"].to_list()
    builders: dict[str, Callable[[], pl.DataFrame]] = {
        "coherence": lambda: coherence_frame(samples),
        "diversity": lambda: diversity_frame(texts, sample_vectors, corpus_vectors, config),
        "bias": lambda: bias_frame(texts, list(corpus_texts), config, lexicons),
    }
    frame = builders[family]()
    result = validate(frame, build_suite(family, config, mostly))
    observed, thresholds = OBSERVE[family](frame, config, mostly)
    passed = bool(result["success"])
    details = DESCRIBE[family](observed, thresholds, passed) + _failures(result)
    return CheckOutcome(
        family=family,
        passed=passed,
        observed=observed,
        thresholds=thresholds,
        result_json=result,
        details=details,
        seconds=time.perf_counter() - start,
    )


def _failures(result: dict[str, Any]) -> str:
    failed = []
    for res in result.get("results", []):
        if res.get("success"):
            continue
        config = res.get("expectation_config", {})
        column = config.get("kwargs", {}).get("column")
        where = f"({column})" if column else ""
        info = res.get("result", {}) or {}
        pct = info.get("unexpected_percent")
        note = f": {pct:.1f}% unexpected" if pct is not None else ""
        failed.append(f"{config.get('type')}{where}{note}")
    return "; failed expectations: " + ", ".join(failed) if failed else ""


def _unknown(family: str) -> str:
    return f"unknown check family {family!r}; expected one of {list(FAMILIES)}"
