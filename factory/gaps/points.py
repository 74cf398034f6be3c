"""2-D positions of gaps on the map picture.

Example:
    >>> gap_points(gaps, semantic_map).columns  # doctest: +SKIP
    ['x', 'y', 'rank']
"""

from __future__ import annotations

import polars as pl

__all__ = ["gap_points"]


def gap_points(gaps: pl.DataFrame, semantic_map: pl.DataFrame) -> pl.DataFrame:
    """Per gap, the mean 2-D position of its anchors: columns x, y (Float64), rank; by rank."""
    schema = {"x": pl.Float64, "y": pl.Float64, "rank": pl.Int64}
    if gaps.height == 0:
        return pl.DataFrame(schema=schema)
    anchors = gaps.select("rank", pl.col("anchor_doc_ids").alias("doc_id")).explode("doc_id")
    placed = anchors.join(semantic_map.select("doc_id", "x", "y"), on="doc_id", how="inner")
    return (
        placed.group_by("rank")
        .agg(pl.col("x").cast(pl.Float64).mean(), pl.col("y").cast(pl.Float64).mean())
        .select("x", "y", "rank")
        .sort("rank")
        .cast(schema)
    )
