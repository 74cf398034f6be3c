"""Tables on disk: one Parquet file per table under `HOME/tables`, written atomically.

A partitioned table keeps one file per partition: `HOME/tables/<name>/<partition>.parquet`.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

__all__ = ["read_table", "table_path", "write_parquet_atomic", "write_table", "write_text_atomic"]


def table_path(home: Path, name: str, partition: str | None = None) -> Path:
    """Where table `name` (or its `partition`) lives under the project home."""
    tables = Path(home) / "tables"
    if partition is None:
        return tables / f"{name}.parquet"
    return tables / name / f"{partition}.parquet"


def write_table(home: Path, name: str, frame: pl.DataFrame, partition: str | None = None) -> Path:
    """Write `frame` as table `name` (temp file, then rename) and return its path."""
    return write_parquet_atomic(frame, table_path(home, name, partition))


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


def read_table(home: Path, name: str, partition: str | None = None) -> pl.DataFrame | None:
    """Table `name` (or its `partition`), or None when it has never been written."""
    path = table_path(home, name, partition)
    return pl.read_parquet(path) if path.exists() else None
