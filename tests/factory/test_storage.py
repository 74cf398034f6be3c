"""Atomic writes: the final file appears whole, survives a crash, and leaves no temp file."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from factory.errors import FactoryError
from factory.home import Home
from factory.storage import read_table, write_parquet_atomic, write_table, write_text_atomic


def test_writes_replace_whole_files_and_leave_no_temp(tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1, 2, 3]})
    home = Home(tmp_path)
    path = write_table(home, "t", frame, partition="1")
    write_table(home, "t", frame.head(1), partition="1")
    text = write_text_atomic('{"ok": true}', tmp_path / "deep" / "info.json")
    assert read_table(home, "t", "1").equals(frame.head(1))  # type: ignore[union-attr]
    assert text.read_text(encoding="utf-8") == '{"ok": true}'
    assert sorted(p.name for p in path.parent.iterdir()) == ["1.parquet"]
    assert sorted(p.name for p in text.parent.iterdir()) == ["info.json"]


def _traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record, in order, every fsync (of a file or a folder) and every rename."""
    events: list[str] = []
    real_fsync: Callable[[int], None] = os.fsync
    real_replace = os.replace

    def fsync(fd: int) -> None:
        events.append("fsync folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "fsync file")
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append("rename")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    return events


@pytest.mark.parametrize(
    "write",
    [
        lambda path: write_parquet_atomic(pl.DataFrame({"a": [1]}), path / "t.parquet"),
        lambda path: write_text_atomic("hello", path / "t.json"),
    ],
)
def test_atomic_writes_fsync_the_file_and_its_folder_around_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write: Callable[[Path], Path]
) -> None:
    events = _traced(monkeypatch)
    write(tmp_path)
    assert events == ["fsync file", "fsync folder", "rename", "fsync folder"]


def test_an_unreadable_table_names_the_file_and_the_fix(tmp_path: Path) -> None:
    home = Home(tmp_path)
    path = write_table(home, "t", pl.DataFrame({"a": list(range(100))}))
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(FactoryError, match=r"t\.parquet.*is not a readable Parquet file.*delete"):
        read_table(home, "t")
