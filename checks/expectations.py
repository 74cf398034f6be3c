"""factory's custom Great Expectations 1.x expectations, registered when this module is imported.

GX registers an Expectation subclass when the class is defined and drops an unknown expectation
type when it reloads a stored suite, so every module that builds or loads a factory suite
imports this one (`checks.suites` does at import).

Each set check is one expectation on a one-row frame of measured metrics (one column per
metric): `ExpectQualityMetricAtMost` / `ExpectQualityMetricAtLeast` bound the column's value, and
the expectation's `meta` names the check, its family and how the threshold was derived.

Example:
    >>> e = ExpectQualityMetricAtMost(column="disfluent_share", max_value=0.1)  # doctest: +SKIP
    >>> e.expectation_type  # doctest: +SKIP
    'expect_quality_metric_at_most'
"""

from __future__ import annotations

import os

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

import great_expectations.expectations as gxe

__all__ = ["CUSTOM_EXPECTATIONS", "ExpectQualityMetricAtLeast", "ExpectQualityMetricAtMost"]


class ExpectQualityMetricAtMost(gxe.ExpectColumnMaxToBeBetween):
    """A measured quality metric (one row) must be at most `max_value`."""

    description: str | None = "The measured quality metric must not exceed its threshold."


class ExpectQualityMetricAtLeast(gxe.ExpectColumnMinToBeBetween):
    """A measured quality metric (one row) must be at least `min_value`."""

    description: str | None = "The measured quality metric must reach its threshold."


CUSTOM_EXPECTATIONS = (ExpectQualityMetricAtLeast, ExpectQualityMetricAtMost)
