"""Tables on disk: one Parquet file per table under `HOME/tables`, written atomically."""

from __future__ import annotations

from pathlib import Path

import polars as pl

__all__ = ["read_table", "table_path", "write_table"]


def table_path(home: Path, name: str) -> Path:
    """Where table `name` lives under the project home."""
    return Path(home) / "tables" / f"{name}.parquet"


def write_table(home: Path, name: str, frame: pl.DataFrame) -> Path:
    """Write `frame` as table `name` (temp file, then rename) and return its path."""
    path = table_path(home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.write_parquet(tmp)
    tmp.replace(path)
    return path


def read_table(home: Path, name: str) -> pl.DataFrame | None:
    """Table `name`, or None when it has never been written."""
    path = table_path(home, name)
    return pl.read_parquet(path) if path.exists() else None
