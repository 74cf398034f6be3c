"""Tables on disk: one Parquet file per table under `HOME/tables`, written atomically.

A partitioned table keeps one file per partition: `HOME/tables/<name>/<partition>.parquet`
(`Home.table_path` names them).

An atomic write survives a crash, power loss included: the temp file is flushed to disk
(fsync), then its folder, before the rename; the folder again after it. A reader sees the old
file or the new one, whole, never a truncated one.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from factory.errors import FactoryError
from factory.home import Home

__all__ = ["read_table", "write_parquet_atomic", "write_table", "write_text_atomic"]


def write_table(home: Home, name: str, frame: pl.DataFrame, partition: str | None = None) -> Path:
    """Write `frame` as table `name` (temp file, then rename) and return its path."""
    return write_parquet_atomic(frame, home.table_path(name, partition))


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` through a synced temp file and a rename: a reader (or a run after
    a crash) never sees half a file."""
    tmp = _temp_beside(path)
    frame.write_parquet(tmp)
    _sync(tmp)
    return _publish(tmp, path)


def write_text_atomic(text: str, path: Path) -> Path:
    """Write `text` (UTF-8) to `path` through a synced temp file and a rename."""
    tmp = _temp_beside(path)
    tmp.write_text(text, encoding="utf-8")
    _sync(tmp)
    return _publish(tmp, path)


def _publish(tmp: Path, path: Path) -> Path:
    """Rename the synced `tmp` onto `path`, syncing their folder before and after."""
    _sync(path.parent)
    os.replace(tmp, path)
    _sync(path.parent)
    return path


def _sync(path: Path) -> None:
    """fsync a file or a folder; a folder is skipped where it cannot be opened (Windows, whose
    NTFS journals renames)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except IsADirectoryError:
        return
    except PermissionError:
        if path.is_dir():
            return
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_beside(path: Path) -> Path:
    """A temp name next to `path`, one per process, so two writers racing never share one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def read_table(home: Home, name: str, partition: str | None = None) -> pl.DataFrame | None:
    """Table `name` (or its `partition`), or None when it has never been written."""
    path = home.table_path(name, partition)
    if not path.exists():
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        msg = (
            f"table {name!r} at {str(path)!r} is not a readable Parquet file ({exc}); delete it "
            "and materialize the asset again"
        )
        raise FactoryError(msg) from exc
