"""The package surface: exported names exist, and importing it loads no heavy dependency."""

from __future__ import annotations

import subprocess
import sys

import checks


def test_exports_exist_and_are_sorted() -> None:
    assert list(checks.__all__) == sorted(checks.__all__, key=lambda n: (not n.isupper(), n))
    assert [name for name in checks.__all__ if not hasattr(checks, name)] == []


def test_import_loads_no_dagster_gx_or_torch() -> None:
    code = (
        "import sys, checks, checks.gate, checks.measure, checks.thresholds, checks.row_filters; "
        "print(sorted({'dagster', 'great_expectations', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
