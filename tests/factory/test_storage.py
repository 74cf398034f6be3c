"""Atomic writes: the final file appears whole and no temp file is left behind."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from factory.home import Home
from factory.storage import read_table, write_table, write_text_atomic


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
