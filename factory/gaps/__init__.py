"""The gaps layer: places in the embedding space where synthetic samples should go.

Five kinds, measured on one scale (the shortfall, 1 - observed / expected): coverage against a
reference, sparse regions, bridges between clusters, under-represented labels or clusters, and
student-failure regions. `find_gaps` ranks them in one table; `find_round_gaps` does so for one
failure-loop round of a project; docs/gaps.md explains each rule.

Example:
    >>> from factory.config import GapsConfig
    >>> found = find_gaps(semantic_map, vectors, clusters, GapsConfig())  # doctest: +SKIP
    >>> gap_points(found.gaps, semantic_map).columns  # doctest: +SKIP
    ['x', 'y', 'rank', 'kind', 'score', 'budget', 'rationale']
"""

from __future__ import annotations

from factory.gaps.candidates import (
    BRIDGE,
    COVERAGE,
    GAP_KINDS,
    SPARSE_REGION,
    STUDENT_FAILURE,
    UNDER_REPRESENTED,
)
from factory.gaps.find import GapFinding, Reference, find_gaps
from factory.gaps.inputs import coverage_reference
from factory.gaps.pictures import write_gap_pictures
from factory.gaps.points import gap_points
from factory.gaps.rounds import RoundGaps, find_round_gaps

__all__ = [
    "BRIDGE",
    "COVERAGE",
    "GAP_KINDS",
    "SPARSE_REGION",
    "STUDENT_FAILURE",
    "UNDER_REPRESENTED",
    "GapFinding",
    "Reference",
    "RoundGaps",
    "coverage_reference",
    "find_gaps",
    "find_round_gaps",
    "gap_points",
    "write_gap_pictures",
]
