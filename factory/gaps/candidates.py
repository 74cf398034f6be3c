"""A gap before ranking: its kind, the shortfall that makes it one, a target and its anchors.

The one scale every kind is measured on is the shortfall, 1 - observed / expected, clipped to
[0, 1]: the share of the expected train documents (or, for student failures, of the expected
correct answers) that is missing at the gap. 0.9 means nine in ten are missing.

Example:
    >>> shortfall(3, 41)
    0.926829268292683
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BRIDGE",
    "COVERAGE",
    "GAP_KINDS",
    "SPARSE_REGION",
    "STUDENT_FAILURE",
    "UNDER_REPRESENTED",
    "GapCandidate",
    "shortfall",
]

COVERAGE = "coverage"
SPARSE_REGION = "sparse_region"
BRIDGE = "bridge"
UNDER_REPRESENTED = "under_represented"
STUDENT_FAILURE = "student_failure"
GAP_KINDS = (COVERAGE, SPARSE_REGION, BRIDGE, UNDER_REPRESENTED, STUDENT_FAILURE)
"""Every gap kind, in the order the documentation lists them."""


def shortfall(observed: float, expected: float) -> float:
    """1 - observed / expected, clipped to [0, 1]; 0 when nothing is expected."""
    if expected <= 0:
        return 0.0
    return float(min(1.0, max(0.0, 1.0 - observed / expected)))


@dataclass(frozen=True)
class GapCandidate:
    """One gap found by one kind; `anchors` are train rows of the `TrainSpace`, nearest first."""

    kind: str
    observed: float
    expected: float
    target: np.ndarray
    anchors: list[int]
    rationale: str
    tie_break: float = 0.0
    evidence: list[str] = field(default_factory=list)

    @property
    def shortfall(self) -> float:
        """1 - observed / expected, in [0, 1]."""
        return shortfall(self.observed, self.expected)
