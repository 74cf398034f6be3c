"""The built-in default corpus: documentation of the running Python's standard library.

Docstrings are read from the interpreter's own source files with `ast`; nothing is imported or
executed. Test suites, idlelib, vendored packages and private names are skipped. License PSF-2.0.
"""

from __future__ import annotations

import ast
import json
import platform
import sys
import sysconfig
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.records import RawRecord

__all__ = [
    "STDLIB_LICENSE",
    "STDLIB_ORIGIN",
    "iter_stdlib_files",
    "read_stdlib",
    "stdlib_docstrings",
]

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
_READER_VERSION = "stdlib-docstrings-v1"
"""Bump when the files read or the docstrings taken change: it keys the parsed-docstring cache."""
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
    for uri, line, qualname, doc, problem in stdlib_docstrings():
        if problem is not None:
            yield RawRecord.rejected(uri, None, problem, "")
        elif len(doc) >= source.min_chars:
            fields = {source.text_field: doc, "qualname": qualname}
            yield RawRecord(uri, line, fields, None, doc)


_Docstring = tuple[str, int, str, str, str | None]
"""(source uri, line, qualified name, docstring, problem): a problem names an unparseable file."""


def stdlib_docstrings(cache_dir: Path | None = None) -> list[_Docstring]:
    """Every public docstring of the standard library, in file order, from a per-interpreter
    cache in the user cache (`cache_dir`, default `factory.home.user_cache()/stdlib`).

    Parsing the 500-odd files takes 3-4 s on 2 cores and the files of an installed interpreter
    do not change, so the list is parsed once per interpreter (keyed by its version and path)
    and read back in well under a second after that; a cache that cannot be read or written is
    parsed around."""
    from factory.hashing import fingerprint
    from factory.home import user_cache
    from factory.storage import write_text_atomic

    root = stdlib_root()
    folder = cache_dir or user_cache() / "stdlib"
    key = fingerprint(_READER_VERSION, sys.version, str(root), sorted(_SKIP_DIRS))[:24]
    path = folder / f"docstrings-{key}.json"
    try:
        return [tuple(entry) for entry in json.loads(path.read_text(encoding="utf-8"))]  # type: ignore[misc]
    except (OSError, ValueError):
        pass
    entries = list(_parsed_docstrings(root))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_text_atomic(json.dumps(entries), path)
    except OSError:
        pass  # a read-only cache: parse again next time
    return entries


def _parsed_docstrings(root: Path) -> Iterator[_Docstring]:
    version = platform.python_version()
    for path in iter_stdlib_files(root):
        rel = path.relative_to(root)
        uri = f"python-{version}-stdlib/{rel.as_posix()}"
        try:
            tree = _parse(path)
        except (SyntaxError, SystemError, UnicodeDecodeError, ValueError) as exc:
            yield uri, 0, "", "", f"unparseable Python source: {exc}"
            continue
        for qualname, line, doc in _docstrings(tree, _module_name(rel)):
            yield uri, line, qualname, doc, None
