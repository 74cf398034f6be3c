"""GX suites over measured metrics, and the thresholds they are held to (no models needed)."""

from __future__ import annotations

import json

import pytest

from checks.measure import Measurement
from checks.specs import DEFAULT_BLOCKING, FAMILIES, SPECS, check_names
from checks.suites import build_suite, run_suites
from checks.thresholds import ReferenceRates, rate_ceiling, thresholds_for
from factory.config import ChecksConfig
from factory.errors import ConfigError

RATES = ReferenceRates(
    rates={
        "length_violation_share": (0.01, 1000),
        "language_mismatch_share": (0.02, 1000),
        "disfluent_share": (0.05, 1000),
        "label_disagreement_share": (0.03, 1000),
        "corpus_copy_share": (0.0, 1000),
        "negative_share": (0.2, 1000),
        "toxic_share": (0.001, 1000),
        "contamination_rate": (0.004, 8000),
    },
    perplexity_ceiling=120.0,
    language="en",
    notes={},
)


def _measured(**values: float | None) -> dict[str, Measurement]:
    """Every metric at a value that passes, overridden by `values`."""
    good = {
        "schema_violations": 0.0, "length_violation_share": 0.0, "off_target_share": 0.0,
        "language_mismatch_share": 0.01, "disfluent_share": 0.05,
        "label_disagreement_share": 0.02, "duplicate_rate": 0.0, "corpus_copy_share": 0.0,
        "spread_ratio": 0.9, "vendi_ratio": 0.8, "distinct_2_ratio": 0.9,
        "gaps_reached_share": 1.0, "max_term_ratio": 1.2, "negative_share": 0.2,
        "toxic_share": 0.0, "mix_drift_change": 0.0, "contamination_rate": 0.0, "pii_rows": 0.0,
    }  # fmt: skip
    good.update(values)
    return {k: Measurement(v, 200) for k, v in good.items()}


def _thresholds(rows: int = 200, **config: object) -> dict:
    size_rates = {"duplicate_rate": (0.0, rows), "mix_drift_change": (0.02, rows)}
    return thresholds_for(RATES, rows, ChecksConfig(**config), size_rates)  # type: ignore[arg-type]


def test_rate_ceiling_shrinks_with_set_size_and_never_falls_below_the_rate() -> None:
    small, large = rate_ceiling(0.05, 1000, 50, 3.0), rate_ceiling(0.05, 1000, 50_000, 3.0)
    assert small > large > 0.05
    assert rate_ceiling(0.0, 1000, 200, 3.0) > 0.0  # a zero rate still allows chance
    assert rate_ceiling(0.05, 1000, 200, 0.0) == 0.05
    assert rate_ceiling(0.9, 10, 1, 3.0) == 1.0


def test_every_check_has_a_threshold_and_a_derivation() -> None:
    thresholds = _thresholds()
    assert sorted(thresholds) == sorted(SPECS)
    fluency = thresholds["fluency"]
    assert fluency.source == "derived"
    assert "train rate 0.0500 over 1000 rows" in fluency.derivation
    assert fluency.value == pytest.approx(rate_ceiling(0.05, 1000, 200, 3.0))
    assert thresholds["vendi"].source == "config"
    assert thresholds["vendi"].value == 0.5
    assert thresholds["privacy"].value == 0.0
    assert thresholds["mix_drift"].value == pytest.approx(0.07)


def test_pinned_thresholds_win_and_unknown_names_are_refused() -> None:
    assert _thresholds(thresholds={"fluency": 0.5})["fluency"].source == "pinned"
    with pytest.raises(ConfigError, match="unknown check 'fluencey'"):
        _thresholds(thresholds={"fluencey": 0.5})


def test_a_missing_reference_rate_makes_the_check_not_applicable() -> None:
    rates = ReferenceRates({}, None, None, {"disfluent_share": "no train text long enough"})
    thresholds = thresholds_for(rates, 100, ChecksConfig())
    report = run_suites(_measured(), thresholds, DEFAULT_BLOCKING)
    fluency = report.by_name()["fluency"]
    assert fluency.status == "not applicable"
    assert fluency.passed
    assert "no train text long enough" in fluency.note


def test_all_good_measurements_pass_and_results_are_json() -> None:
    report = run_suites(_measured(), _thresholds(), DEFAULT_BLOCKING)
    assert report.passed
    assert all(c.passed for c in report.checks)
    assert sorted(report.gx_results) == sorted(FAMILIES)
    assert all(r["success"] for r in report.gx_results.values())
    json.dumps(report.as_dict())


@pytest.mark.parametrize(
    ("check", "metric", "value"),
    [
        ("fluency", "disfluent_share", 0.5),
        ("vendi", "vendi_ratio", 0.1),
        ("privacy", "pii_rows", 3.0),
        ("protected_terms", "max_term_ratio", 9.0),
    ],
)
def test_a_bad_metric_fails_its_check_only(check: str, metric: str, value: float) -> None:
    report = run_suites(_measured(**{metric: value}), _thresholds(), DEFAULT_BLOCKING)
    failed = [c.name for c in report.checks if not c.passed]
    assert failed == [check]
    result = report.by_name()[check]
    assert result.observed == value
    assert report.passed is (check not in DEFAULT_BLOCKING)
    assert not report.gx_results[SPECS[check].family]["success"]
    assert "FAILED" in result.sentence()
    assert metric in result.sentence()


def test_blocking_is_configurable() -> None:
    report = run_suites(_measured(vendi_ratio=0.1), _thresholds(), ["vendi"])
    assert [c.name for c in report.failed_blocking()] == ["vendi"]


def test_suites_hold_one_custom_expectation_per_applicable_check() -> None:
    measured = _measured(off_target_share=None)
    for family in FAMILIES:
        suite = build_suite(family, measured, _thresholds())
        names = [e.meta["check"] for e in suite.expectations]
        expected = [n for n in check_names(family) if n != "target_cosine"]
        assert names == expected
        types = {e.expectation_type for e in suite.expectations}
        assert types <= {"expect_quality_metric_at_most", "expect_quality_metric_at_least"}
