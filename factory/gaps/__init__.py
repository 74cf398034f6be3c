"""The gaps layer: places in the embedding space where synthetic samples should go.

Example:
    >>> from factory.config import GapsConfig
    >>> gaps = find_sparse_gaps(semantic_map, vectors, clusters, GapsConfig())  # doctest: +SKIP
    >>> gap_points(gaps, semantic_map).columns  # doctest: +SKIP
    ['x', 'y', 'rank']
"""

from __future__ import annotations

from factory.gaps.budget import split_budget
from factory.gaps.points import gap_points
from factory.gaps.records import gap_id, gaps_frame
from factory.gaps.sparse import SPARSE_REGION, find_sparse_gaps, percentile_ranks

__all__ = [
    "SPARSE_REGION",
    "find_sparse_gaps",
    "gap_id",
    "gap_points",
    "gaps_frame",
    "percentile_ranks",
    "split_budget",
]
