"""The gaps layer: places in the embedding space where synthetic samples should go.

Five kinds, measured on one scale (the shortfall, 1 - observed / expected): coverage against a
reference, sparse regions, bridges between clusters, under-represented labels or clusters, and
student-failure regions. `find_gaps` ranks them in one table; docs/gaps.md explains each rule.

Example:
    >>> from factory.config import GapsConfig
    >>> found = find_gaps(semantic_map, vectors, clusters, GapsConfig())  # doctest: +SKIP
    >>> gap_points(found.gaps, semantic_map).columns  # doctest: +SKIP
    ['x', 'y', 'rank', 'kind', 'score', 'budget', 'rationale']
"""

from __future__ import annotations

from factory.gaps.budget import split_budget
from factory.gaps.candidates import (
    BRIDGE,
    COVERAGE,
    GAP_KINDS,
    SPARSE_REGION,
    STUDENT_FAILURE,
    UNDER_REPRESENTED,
    GapCandidate,
    shortfall,
)
from factory.gaps.find import GapFinding, Reference, find_gaps
from factory.gaps.points import gap_points
from factory.gaps.records import gap_id, gaps_frame
from factory.gaps.space import TrainSpace
from factory.gaps.sparse import percentile_ranks

__all__ = [
    "BRIDGE",
    "COVERAGE",
    "GAP_KINDS",
    "SPARSE_REGION",
    "STUDENT_FAILURE",
    "UNDER_REPRESENTED",
    "GapCandidate",
    "GapFinding",
    "Reference",
    "TrainSpace",
    "find_gaps",
    "gap_id",
    "gap_points",
    "gaps_frame",
    "percentile_ranks",
    "shortfall",
    "split_budget",
]
