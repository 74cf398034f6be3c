"""Splitting a sample budget over gaps by score, with largest-remainder rounding.

Example:
    >>> split_budget([0.9, 0.5, 0.1], 10)
    [5, 3, 2]
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from factory.errors import FactoryError

__all__ = ["split_budget"]


def split_budget(scores: Sequence[float], total: int) -> list[int]:
    """Integer budgets summing to `total`: 1 per gap, the rest shared in proportion to score.

    The proportional shares are rounded by largest remainder; equal remainders go to the gap
    listed first (the higher rank). Needs `total >= len(scores)`: trim the gaps first.
    """
    m = len(scores)
    if m == 0:
        return []
    if total < m:
        msg = f"a budget of {total} cannot give 1 sample to each of {m} gaps; keep the top {total}"
        raise FactoryError(msg)
    if any(s < 0 or not math.isfinite(s) for s in scores):
        msg = f"gap scores must be finite and >= 0, got {list(scores)}"
        raise FactoryError(msg)
    rest = total - m
    weight = float(sum(scores))
    quotas = [rest * s / weight for s in scores] if weight > 0 else [rest / m] * m
    budgets = [1 + math.floor(q) for q in quotas]
    left = total - sum(budgets)
    by_remainder = sorted(range(m), key=lambda i: (-(quotas[i] - math.floor(quotas[i])), i))
    for i in by_remainder[:left]:
        budgets[i] += 1
    return budgets
