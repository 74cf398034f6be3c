"""Aligning stored vectors with tables by `doc_id`."""

from __future__ import annotations

import numpy as np
import polars as pl

from factory.errors import SchemaError

__all__ = ["vectors_for"]


def vectors_for(embeddings: pl.DataFrame, doc_ids: list[str]) -> np.ndarray:
    """Rows of `embeddings.vector` in the order of `doc_ids`, shape (len(doc_ids), d) float32."""
    order = pl.DataFrame({"doc_id": doc_ids}).with_row_index("_pos")
    joined = order.join(embeddings.select("doc_id", "vector"), on="doc_id", how="left")
    missing = joined.filter(pl.col("vector").is_null())
    if missing.height:
        shown = missing["doc_id"].head(3).to_list()
        msg = (
            f"{missing.height} documents have no embedding (e.g. {shown}); "
            "materialize document_embeddings again"
        )
        raise SchemaError(msg)
    joined = joined.sort("_pos")
    return np.ascontiguousarray(joined["vector"].to_numpy(), dtype=np.float32)
