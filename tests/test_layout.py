"""The shape of the code base: floors of packages, the direction of imports, no import circle,
small modules, thin assets, fixtures as the only shared test code, and the public surface.

The floors (docs/architecture.md)::

    assets        the Dagster layer and the CLI
    checks  lineage     quality; provenance and the release (side by side, never importing
                        each other)
    factory       the library

A floor imports only the floors below it. The graph counts every import in a module, lazy ones
inside functions and `TYPE_CHECKING` blocks included: a circle closed by a lazy import is still a
circle a reader has to untangle.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

from tests.fixtures.paths import REPO

PACKAGES = ("factory", "checks", "lineage", "assets")
FLOOR = {"factory": 0, "checks": 1, "lineage": 1, "assets": 2}
MAX_MODULE_LINES = 450
LONG_MODULES = {"factory/config.py"}
"""The declarative config schema: one class per config section, each field described once."""
MAX_ASSET_BODY = 60
FAULT_PROXY_CLI = "assets/cli/teacher.py"
"""The one product module that may import `factory.testing` (it starts the fault proxy)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((REPO / pkg).rglob("*.py"))}


def _imported(path: Path) -> set[str]:
    """Every module name `path` imports (absolute, resolved; `from x import y` gives x and x.y)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


@cache
def _graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports."""
    modules = _modules()
    return {
        name: {m for m in _imported(path) if m in modules and m != name}
        for name, path in modules.items()
    }


def _top(module: str) -> str:
    return module.split(".")[0]


def test_every_package_imports_only_the_floors_below_it() -> None:
    offenders = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        for target in sorted(targets)
        if _top(target) != _top(module) and FLOOR[_top(target)] >= FLOOR[_top(module)]
    ]
    assert offenders == []


@pytest.mark.parametrize("package", ["factory", "checks", "lineage"])
def test_only_assets_imports_dagster(package: str) -> None:
    offenders = [
        name
        for name, path in _modules().items()
        if _top(name) == package and any(_top(m) == "dagster" for m in _imported(path))
    ]
    assert offenders == []


def test_the_lineage_floor_never_imports_the_release_it_carries() -> None:
    """`lineage.release` builds on the ledger, trace and secrets; never the other way round."""
    offenders = [
        f"{module} imports {target}"
        for module, targets in _graph().items()
        if module.startswith("lineage") and not module.startswith("lineage.release")
        for target in targets
        if target.startswith("lineage.release")
    ]
    assert offenders == []


def test_no_import_circle() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert circles == []


def test_modules_are_small() -> None:
    long = {
        path.relative_to(REPO).as_posix(): n
        for path in _modules().values()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert {k: v for k, v in long.items() if k not in LONG_MODULES} == {}


def _is_asset(node: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and ast.unparse(d.func).endswith(("asset", "asset_check"))
        for d in node.decorator_list
    )


def test_asset_bodies_are_thin() -> None:
    """An asset loads inputs, calls the library, writes and returns metadata; logic lives below."""
    fat = {}
    for path in sorted((REPO / "assets").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and _is_asset(node):
                lines = (node.end_lineno or 0) - node.body[0].lineno + 1
                if lines > MAX_ASSET_BODY:
                    fat[f"{path.relative_to(REPO).as_posix()}::{node.name}"] = lines
    assert fat == {}


def test_rehearsal_tools_stay_out_of_the_product() -> None:
    """Nothing in the product imports the tests; only the fault-proxy command imports
    `factory.testing`, the rehearsal tools users run themselves."""
    offenders = []
    for name, path in _modules().items():
        imported = _imported(path)
        rel = path.relative_to(REPO).as_posix()
        if any(_top(m) == "tests" for m in imported):
            offenders.append(f"{rel} imports tests")
        testing = any(m.startswith("factory.testing") for m in imported)
        if testing and not name.startswith("factory.testing") and rel != FAULT_PROXY_CLI:
            offenders.append(f"{rel} imports factory.testing")
    assert offenders == []


def test_test_modules_share_code_only_through_fixtures() -> None:
    """Shared builders live in tests/fixtures (registered as plugins); test modules and
    conftest files never import one another."""
    offenders = []
    for path in sorted((REPO / "tests").rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        if rel.startswith("tests/fixtures/"):
            continue
        for name in _imported(path):
            if _top(name) == "tests" and name != "tests" and not name.startswith("tests.fixtures"):
                offenders.append(f"{rel} imports {name}")
    assert offenders == []


def test_only_one_definitions_object() -> None:
    hits = [
        path.relative_to(REPO).as_posix()
        for path in _modules().values()
        if "dg.Definitions(" in path.read_text(encoding="utf-8")
    ]
    assert hits == ["assets/definitions.py"]


PUBLIC_MODULES = [
    "checks",
    "factory",
    "factory.corpus",
    "factory.embedding",
    "factory.experiments",
    "factory.gaps",
    "factory.mapping",
    "factory.synthesis",
    "factory.teacher",
    "factory.training",
    "lineage",
    "lineage.release",
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
    code = (
        "import sys, factory, factory.corpus; print(sorted({'dagster','torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
