"""95% intervals over seeds: Student's t on the per-seed values.

With n seeds giving values x_1..x_n, the interval is mean +- t(0.975, n - 1) * s / sqrt(n),
s the sample standard deviation (ddof 1). It says how much the mean would move with other
seeds of what the seeds vary, not how the result would move on other data; with one seed
there is no interval (both ends None).

Example:
    >>> iv = t_interval([0.80, 0.82, 0.84])
    >>> round(iv.mean, 3), round(iv.low, 3), round(iv.high, 3)
    (0.82, 0.77, 0.87)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from factory.errors import FactoryError

__all__ = ["Interval", "t_interval"]


@dataclass(frozen=True)
class Interval:
    """A mean over `n` values with its interval (None, None below two values)."""

    mean: float
    low: float | None
    high: float | None
    n: int

    def as_list(self) -> list[float | None]:
        """[low, high]."""
        return [self.low, self.high]

    def describe(self, digits: int = 3) -> str:
        """`0.820 [0.770, 0.870]`, or the mean alone without an interval."""
        if self.low is None or self.high is None:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """Mean of `values` with the two-sided Student-t interval at `confidence`."""
    if not values:
        msg = "an interval needs at least one value; run at least one seed"
        raise FactoryError(msg)
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must lie in (0, 1), got {confidence}"
        raise FactoryError(msg)
    data = [float(v) for v in values]
    if not all(math.isfinite(v) for v in data):
        msg = f"interval values must be finite numbers, got {data}"
        raise FactoryError(msg)
    n = len(data)
    mean = math.fsum(data) / n
    if n < 2:
        return Interval(mean, None, None, n)
    from scipy.stats import t

    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in data) / (n - 1))
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)
