"""Metadata that the Dagster UI shows beside each materialization."""

from typing import Any

import dagster as dg
import polars as pl

from factory.schemas import TableSchema

__all__ = ["markdown_table", "table_metadata"]

_PREVIEW_CHARS = 120


def markdown_table(frame: pl.DataFrame, columns: list[str], rows: int = 5) -> str:
    """A small Markdown preview of `frame` (long cells shortened, pipes escaped)."""
    head = frame.select(columns).head(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in head.iter_rows():
        cells = []
        for value in row:
            text = "" if value is None else str(value).replace("\n", " ").replace("|", "\\|")
            cells.append(text if len(text) <= _PREVIEW_CHARS else text[: _PREVIEW_CHARS - 1] + "…")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_metadata(
    frame: pl.DataFrame, schema: TableSchema, preview: list[str] | None = None
) -> dict[str, Any]:
    """Row count, declared column schema and an optional preview."""
    columns = [dg.TableColumn(c.name, str(c.dtype), description=c.meaning) for c in schema.columns]
    meta: dict[str, Any] = {
        "dagster/row_count": frame.height,
        "dagster/column_schema": dg.TableSchema(columns=columns),
    }
    if preview and frame.height:
        meta["preview"] = dg.MetadataValue.md(markdown_table(frame, preview))
    return meta
