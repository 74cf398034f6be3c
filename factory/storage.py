"""Tables on disk: one Parquet file per table under `HOME/tables`, written atomically.

A partitioned table keeps one file per partition: `HOME/tables/<name>/<partition>.parquet`
(`Home.table_path` names them).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from factory.home import Home

__all__ = ["read_table", "write_parquet_atomic", "write_table", "write_text_atomic"]


def write_table(home: Home, name: str, frame: pl.DataFrame, partition: str | None = None) -> Path:
    """Write `frame` as table `name` (temp file, then rename) and return its path."""
    return write_parquet_atomic(frame, home.table_path(name, partition))


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> Path:
    """Write `frame` to `path` through a temp file and a rename: a reader never sees half a file."""
    tmp = _temp_beside(path)
    frame.write_parquet(tmp)
    tmp.replace(path)
    return path


def write_text_atomic(text: str, path: Path) -> Path:
    """Write `text` (UTF-8) to `path` through a temp file and a rename."""
    tmp = _temp_beside(path)
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _temp_beside(path: Path) -> Path:
    """A temp name next to `path`, one per process, so two writers racing never share one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.with_name(f"{path.name}.{os.getpid()}.tmp")


def read_table(home: Home, name: str, partition: str | None = None) -> pl.DataFrame | None:
    """Table `name` (or its `partition`), or None when it has never been written."""
    path = home.table_path(name, partition)
    return pl.read_parquet(path) if path.exists() else None
