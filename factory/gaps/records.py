"""Building rows of the `coverage_gaps` table: stable gap ids and the typed frame.

Example:
    >>> len(gap_id("sparse_region", ["b", "a"]))
    16
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from factory.hashing import fingerprint
from factory.schemas import COVERAGE_GAPS, vector_dtype

__all__ = ["gap_id", "gaps_frame"]


def gap_id(kind: str, anchor_doc_ids: list[str], evidence_doc_ids: list[str] | None = None) -> str:
    """First 16 hex digits of the fingerprint of the kind, sorted anchors and sorted evidence."""
    return fingerprint(kind, sorted(anchor_doc_ids), sorted(evidence_doc_ids or []))[:16]


def gaps_frame(rows: list[dict[str, Any]], dim: int) -> pl.DataFrame:
    """A validated `coverage_gaps` frame from row dicts; `target` vectors have width `dim`."""
    schema: dict[str, Any] = {c.name: c.dtype for c in COVERAGE_GAPS.columns}
    schema["target"] = vector_dtype(dim)
    if not rows:
        return COVERAGE_GAPS.validate(pl.DataFrame(schema=schema))
    data = {name: [row[name] for row in rows] for name in schema}
    data["target"] = np.stack(data["target"]).astype(np.float32)
    frame = pl.DataFrame(
        {name: pl.Series(name, values, dtype=schema[name]) for name, values in data.items()}
    )
    return COVERAGE_GAPS.validate(frame)
