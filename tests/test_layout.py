"""The direction of imports and the public surface."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "factory": {"dagster", "assets", "checks", "lineage"},
    "lineage": {"dagster", "assets", "checks"},
    "checks": {"assets", "lineage"},
}
CHECKS_DAGSTER_ADAPTER = "checks/dagster_checks.py"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_point_one_way(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        forbidden = set(FORBIDDEN[package])
        if rel == CHECKS_DAGSTER_ADAPTER:
            continue
        if package == "checks":
            forbidden.add("dagster")
        bad = _imports(path) & forbidden
        if bad:
            offenders.append(f"{rel} imports {sorted(bad)}")
    assert offenders == []


def test_only_one_definitions_object() -> None:
    hits = [
        p.relative_to(REPO).as_posix()
        for package in ("factory", "assets", "checks", "lineage")
        for p in (REPO / package).rglob("*.py")
        if "dg.Definitions(" in p.read_text(encoding="utf-8")
    ]
    assert hits == ["assets/definitions.py"]


PUBLIC_MODULES = [
    "checks",
    "factory",
    "factory.corpus",
    "factory.embedding",
    "factory.gaps",
    "factory.mapping",
    "factory.synthesis",
    "factory.teacher",
    "factory.training",
    "lineage",
]


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_public_api_exists(module: str) -> None:
    """Every exported name exists once (ruff's RUF022 keeps `__all__` sorted)."""
    mod = importlib.import_module(module)
    exported = list(mod.__all__)
    assert len(exported) == len(set(exported))
    missing = [name for name in exported if not hasattr(mod, name)]
    assert missing == []


def test_library_import_does_not_load_dagster_or_torch() -> None:
    import subprocess
    import sys

    code = (
        "import sys, factory, factory.corpus; print(sorted({'dagster','torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
