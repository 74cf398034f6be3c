"""Custom expectations are registered at import: a suite stored by one process reloads whole."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from checks.expectations import ExpectQualityMetricAtLeast, ExpectQualityMetricAtMost

_RELOAD = """
import json, sys
{imports}
import great_expectations as gx
context = gx.get_context(mode="file", project_root_dir=sys.argv[1])
suite = context.suites.get("factory_probe")
print(json.dumps(sorted(e.expectation_type for e in suite.expectations)))
"""


def _store_suite(root: Path) -> None:
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=str(root))
    suite = gx.ExpectationSuite(
        name="factory_probe",
        expectations=[
            ExpectQualityMetricAtMost(column="disfluent_share", max_value=0.1, meta={"check": "a"}),
            ExpectQualityMetricAtLeast(column="vendi_ratio", min_value=0.5, meta={"check": "b"}),
            gx.expectations.ExpectColumnValuesToNotBeNull(column="text"),
        ],
    )
    context.suites.add(suite)


def _reload(root: Path, imports: str) -> tuple[list[str], str]:
    code = _RELOAD.format(imports=imports)
    out = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=300
    )
    if out.returncode != 0:
        return [], out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def test_importing_checks_suites_keeps_every_expectation_on_reload(tmp_path: Path) -> None:
    _store_suite(tmp_path)
    kept, stderr = _reload(tmp_path, "import checks.suites")
    assert kept == [
        "expect_column_values_to_not_be_null",
        "expect_quality_metric_at_least",
        "expect_quality_metric_at_most",
    ], stderr


def test_without_the_import_gx_would_lose_them(tmp_path: Path) -> None:
    """The failure the registration prevents: plain GX drops (or refuses) unknown types."""
    _store_suite(tmp_path)
    kept, _ = _reload(tmp_path, "")
    assert "expect_quality_metric_at_most" not in kept
