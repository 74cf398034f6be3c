"""The built-in default corpus: documentation of the running Python's standard library.

Docstrings are read from the interpreter's own source files with `ast`; nothing is imported or
executed. Test suites, idlelib, vendored packages and private names are skipped. License PSF-2.0.
"""

from __future__ import annotations

import ast
import platform
import sysconfig
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.records import RawRecord

__all__ = ["STDLIB_LICENSE", "STDLIB_ORIGIN", "iter_stdlib_files", "read_stdlib"]

STDLIB_LICENSE = "PSF-2.0"
STDLIB_ORIGIN = "https://docs.python.org/3/license.html (CPython standard library source)"

_SKIP_DIRS = {
    "__pycache__",
    "dist-packages",
    "ensurepip",
    "idle_test",
    "idlelib",
    "lib2to3",
    "site-packages",
    "test",
    "tests",
    "turtledemo",
}
_Node = ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef


def stdlib_root() -> Path:
    """Folder of the running interpreter's pure-Python standard library."""
    return Path(sysconfig.get_paths()["stdlib"])


def iter_stdlib_files(root: Path | None = None) -> Iterator[Path]:
    """Public, non-test `.py` files of the standard library, sorted."""
    root = root or stdlib_root()
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(p in _SKIP_DIRS or p.startswith(("_", "test_")) for p in parts[:-1]):
            continue
        name = parts[-1]
        if name.startswith(("test_", "_")) and name != "__init__.py":
            continue
        yield path


def _module_name(rel: Path) -> str:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _docstrings(tree: ast.Module, module: str) -> Iterator[tuple[str, int, str]]:
    """(qualified name, line, docstring) for the module and its public classes and functions."""
    stack: list[tuple[_Node, str]] = [(tree, module)]
    while stack:
        node, qualname = stack.pop()
        doc = ast.get_docstring(node, clean=True)
        if doc:
            yield qualname, getattr(node, "lineno", 1), doc
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue  # nested functions are implementation details
        children = [
            child
            for child in node.body
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and not child.name.startswith("_")
        ]
        stack.extend((child, f"{qualname}.{child.name}") for child in reversed(children))


def _parse_file(path: Path) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _parse(path: Path) -> ast.Module:
    """Parse one file; retry on a fresh thread when CPython 3.11.7's AST depth check misfires.

    CPython before 3.11.8 can raise "SystemError: AST constructor recursion depth mismatch"
    when `ast.parse` runs deep inside a long-lived stack (gh-106905); a new thread starts from a
    clean recursion count.
    """
    try:
        return _parse_file(path)
    except SystemError:
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(_parse_file, path).result()


def read_stdlib(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """Yield one record per public docstring of at least `source.min_chars` characters."""
    root = stdlib_root()
    version = platform.python_version()
    for path in iter_stdlib_files(root):
        rel = path.relative_to(root)
        uri = f"python-{version}-stdlib/{rel.as_posix()}"
        try:
            tree = _parse(path)
        except (SyntaxError, SystemError, UnicodeDecodeError, ValueError) as exc:
            yield RawRecord.rejected(uri, None, f"unparseable Python source: {exc}", "")
            continue
        for qualname, line, doc in _docstrings(tree, _module_name(rel)):
            if len(doc) < source.min_chars:
                continue
            fields = {source.text_field: doc, "qualname": qualname}
            yield RawRecord(uri, line, fields, None, doc)
