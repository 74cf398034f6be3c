"""`run_pipeline`'s verdicts: a quality check that was not applicable is not counted as passed."""

from __future__ import annotations

import dagster as dg

from assets.pipeline import _applicable


def test_a_check_reporting_not_applicable_is_told_apart_from_a_pass() -> None:
    assert not _applicable({"status": dg.MetadataValue.text("not applicable")})
    assert _applicable({"status": dg.MetadataValue.text("passed")})
    assert _applicable({"status": dg.MetadataValue.text("failed")})
    assert _applicable({})  # checks of other kinds carry no status
