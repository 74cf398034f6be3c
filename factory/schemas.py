"""Declared table schemas: name, type and meaning of every column, checked when written.

Example:
    >>> CORPUS_DOCUMENTS.column_names[:2]
    ['doc_id', 'text']
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from factory.errors import SchemaError

__all__ = [
    "CORPUS_DOCUMENTS",
    "CORPUS_QUARANTINE",
    "DOCUMENT_EMBEDDINGS",
    "Column",
    "TableSchema",
    "vector_dtype",
]


@dataclass(frozen=True)
class Column:
    """One column: its name, polars type, meaning and whether nulls are allowed."""

    name: str
    dtype: pl.DataType | type[pl.DataType]
    meaning: str
    nullable: bool = False


@dataclass(frozen=True)
class TableSchema:
    """An ordered set of columns with a name."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def empty(self) -> pl.DataFrame:
        """A zero-row frame with this schema (vector columns need `vector_dtype`)."""
        return pl.DataFrame(schema={c.name: c.dtype for c in self.columns})

    def validate(self, df: pl.DataFrame) -> pl.DataFrame:
        """Return `df` with columns in declared order, or raise `SchemaError` naming every mismatch."""
        problems: list[str] = []
        missing = [c.name for c in self.columns if c.name not in df.columns]
        extra = [c for c in df.columns if c not in self.column_names]
        if missing:
            problems.append(f"missing columns {missing}")
        if extra:
            problems.append(f"undeclared columns {extra}")
        for col in self.columns:
            if col.name not in df.columns:
                continue
            actual = df.schema[col.name]
            if not _dtype_matches(actual, col.dtype):
                problems.append(f"column {col.name!r} has type {actual}, declared {col.dtype}")
            elif not col.nullable and df[col.name].null_count():
                problems.append(f"column {col.name!r} has {df[col.name].null_count()} nulls")
        if problems:
            msg = f"table {self.name!r} does not match its schema: " + "; ".join(problems)
            raise SchemaError(msg)
        return df.select(self.column_names)

    def describe(self) -> dict[str, str]:
        """Column name to "type: meaning", for metadata and docs."""
        return {c.name: f"{_dtype_name(c.dtype)}: {c.meaning}" for c in self.columns}


def vector_dtype(dim: int) -> pl.Array:
    """Fixed-size float32 vector type of width `dim`."""
    return pl.Array(pl.Float32, dim)


def _dtype_name(dtype: pl.DataType | type[pl.DataType]) -> str:
    return str(dtype)


def _dtype_matches(actual: pl.DataType, declared: pl.DataType | type[pl.DataType]) -> bool:
    if declared is pl.Array or isinstance(declared, pl.Array) and declared.size == 0:
        return isinstance(actual, pl.Array) and actual.inner == pl.Float32
    if isinstance(declared, type):
        return actual.base_type() == declared
    if isinstance(declared, pl.Datetime):
        return isinstance(actual, pl.Datetime) and actual.time_unit == declared.time_unit
    return bool(actual == declared)


_TIME = pl.Datetime("us", "UTC")

CORPUS_DOCUMENTS = TableSchema(
    "corpus_documents",
    (
        Column("doc_id", pl.String, "SHA-256 of the normalized text"),
        Column("text", pl.String, "normalized document text (NFC, collapsed whitespace)"),
        Column("label", pl.String, "class label (classification tasks)", nullable=True),
        Column("answer", pl.String, "reference answer (qa tasks)", nullable=True),
        Column("split", pl.String, "train, validation or test"),
        Column("source_id", pl.String, "id of the configured source"),
        Column("source_uri", pl.String, "file, line or object the row came from"),
        Column("license", pl.String, "SPDX id of the source's license, or `unknown`"),
        Column("ingested_at", _TIME, "when the row was first ingested (not part of versions)"),
    ),
)

CORPUS_QUARANTINE = TableSchema(
    "corpus_quarantine",
    (
        Column("source_id", pl.String, "id of the configured source"),
        Column("source_uri", pl.String, "file the rejected row came from"),
        Column("line", pl.Int64, "1-based line (or row) number in the file", nullable=True),
        Column("reason", pl.String, "why the row was rejected"),
        Column("raw", pl.String, "the row as read, at most 10,000 characters"),
        Column("doc_id", pl.String, "content hash when the text could be read", nullable=True),
    ),
)

DOCUMENT_EMBEDDINGS = TableSchema(
    "document_embeddings",
    (
        Column("doc_id", pl.String, "the embedded document"),
        Column("split", pl.String, "train, validation or test"),
        Column("vector", pl.Array, "L2-normalized float32 embedding"),
        Column("model_fingerprint", pl.String, "fingerprint of the embedding model"),
    ),
)
