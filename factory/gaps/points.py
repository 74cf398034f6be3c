"""2-D positions of gaps on the map picture.

Example:
    >>> gap_points(gaps, semantic_map).columns  # doctest: +SKIP
    ['x', 'y', 'rank', 'kind', 'score', 'budget', 'rationale']
"""

from __future__ import annotations

import polars as pl

__all__ = ["gap_points"]

_SCHEMA = {
    "x": pl.Float64,
    "y": pl.Float64,
    "rank": pl.Int64,
    "kind": pl.String,
    "score": pl.Float64,
    "budget": pl.Int64,
    "rationale": pl.String,
}


def gap_points(gaps: pl.DataFrame, semantic_map: pl.DataFrame) -> pl.DataFrame:
    """Per gap, the mean 2-D position of its anchors plus rank, kind, score, budget, rationale."""
    if gaps.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    anchors = gaps.select("rank", pl.col("anchor_doc_ids").alias("doc_id")).explode("doc_id")
    placed = anchors.join(semantic_map.select("doc_id", "x", "y"), on="doc_id", how="inner")
    means = placed.group_by("rank").agg(
        pl.col("x").cast(pl.Float64).mean(), pl.col("y").cast(pl.Float64).mean()
    )
    info = gaps.select("rank", "kind", "score", "budget", "rationale")
    return means.join(info, on="rank").select(list(_SCHEMA)).sort("rank").cast(_SCHEMA)
