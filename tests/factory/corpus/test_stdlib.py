from __future__ import annotations

import sys
from pathlib import Path

import pytest

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.stdlib import iter_stdlib_files, read_stdlib, stdlib_docstrings, stdlib_root


def test_stdlib_files_skip_tests_idlelib_and_private_modules() -> None:
    files = [p.relative_to(stdlib_root()).as_posix() for p in iter_stdlib_files()]
    assert "json/__init__.py" in files
    assert not [f for f in files if f.startswith(("test/", "idlelib/")) or "/test_" in f]
    assert not [
        f for f in files if f.rsplit("/", 1)[-1].startswith("_") and not f.endswith("__init__.py")
    ]


def test_stdlib_docstrings_are_public_and_long_enough() -> None:
    source = SourceConfig()
    records = list(read_stdlib(source, FactoryConfig()))
    good = [r for r in records if r.reason is None]
    assert len(good) > 1000
    assert all(len(r.fields["text"]) >= source.min_chars for r in good)
    qualnames = {r.fields["qualname"] for r in good}
    assert "json.dumps" in qualnames
    assert not [q for q in qualnames if any(part.startswith("_") for part in q.split(".")[1:])]


def test_stdlib_reading_imports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACTORY_CACHE_DIR", str(tmp_path))  # an empty cache: parse for real
    before = set(sys.modules)
    list(read_stdlib(SourceConfig(), FactoryConfig()))
    assert {"tkinter", "turtle", "antigravity"} & (set(sys.modules) - before) == set()


def test_parsed_docstrings_are_cached_per_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from factory.corpus import stdlib

    cache = tmp_path / "stdlib-cache"
    parsed = stdlib_docstrings(cache)
    (cached_file,) = cache.iterdir()
    with monkeypatch.context() as patch:
        patch.setattr(stdlib, "_parsed_docstrings", lambda root: pytest.fail("parsed again"))
        assert stdlib_docstrings(cache) == parsed
    uri, line, _qualname, doc, problem = next(e for e in parsed if e[2] == "json.dumps")
    assert uri.endswith("stdlib/json/__init__.py")
    assert line > 1
    assert doc.startswith("Serialize ``obj`` to a JSON formatted ``str``")
    assert problem is None
    cached_file.write_text("{damaged", encoding="utf-8")
    assert stdlib_docstrings(cache) == parsed  # a damaged cache is parsed around
