"""Spread of a sample set: the Vendi score of its embeddings, and size-matched baselines.

The Vendi score (Friedman & Dieng 2023, "The Vendi Score: A Diversity Evaluation Metric for
Machine Learning") is the exponential of the Shannon entropy of the eigenvalues of K / n, where
K is the similarity matrix of the n samples. With the cosine kernel it reads as an effective
number of distinct directions: 1 when all rows point the same way, n for n orthogonal rows.

Vendi, distinct-n and most spread metrics grow with the size of the set, so a set is compared
with reference samples of its own size: `size_matched_baseline` and
`size_matched_texts_baseline` return the median of a metric over a few random reference subsets.

Example:
    >>> import numpy as np
    >>> vendi_score(np.tile([[0.6, 0.8]], (5, 1)))
    1.0
    >>> round(vendi_score(np.eye(4)), 6)
    4.0
    >>> baseline = size_matched_baseline(vendi_score, np.eye(4), 2)
    >>> round(baseline, 6)
    2.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from checks.metrics import unit_rows
from factory.errors import ConfigError

__all__ = [
    "random_subsets",
    "size_matched_baseline",
    "size_matched_texts_baseline",
    "vendi_score",
]

_ZERO = 1e-12  # eigenvalue shares below this (of a total of 1) are rounding noise


def vendi_score(vectors: np.ndarray) -> float:
    """Vendi score with the cosine kernel of rows, shape (n, d); in [1, min(n, d)], NaN if empty.

    The eigenvalues come from the smaller of X X^T / n and X^T X / n (the same non-zero
    spectrum), so n = 100k rows of width 384 cost O(n d^2). All-zero rows are left out.
    """
    rows = unit_rows(vectors).astype(np.float64)
    rows = rows[np.any(rows != 0, axis=1)]
    n, d = rows.shape
    if n == 0:
        return float("nan")
    gram = rows @ rows.T if n <= d else rows.T @ rows
    eigenvalues = np.clip(np.linalg.eigvalsh(gram / n), 0.0, None)
    shares = eigenvalues / eigenvalues.sum()
    shares = shares[shares > _ZERO]
    return float(np.exp(-np.sum(shares * np.log(shares))))


def random_subsets(total: int, n: int, draws: int, seed: int = 0) -> list[np.ndarray]:
    """`draws` sorted row-index subsets of size min(n, total); one if that is all, none if 0."""
    if draws < 1:
        msg = f"draws must be >= 1, got {draws}; use 5 for a stable median"
        raise ConfigError(msg)
    if n < 0:
        msg = f"the set size n must be >= 0, got {n}; pass the number of rows of the set"
        raise ConfigError(msg)
    size = min(n, total)
    if size == 0:
        return []
    if size == total:
        return [np.arange(total)]
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(total, size=size, replace=False)) for _ in range(draws)]


def size_matched_baseline(
    metric: Callable[[np.ndarray], float],
    reference: np.ndarray,
    n: int,
    *,
    draws: int = 5,
    seed: int = 0,
) -> float:
    """Median of `metric` over `draws` random subsets of min(n, len) `reference` rows.

    Deterministic for a given seed; NaN when the subsets would be empty.

    Example:
        >>> ref = np.random.default_rng(0).normal(size=(500, 8))
        >>> size_matched_baseline(vendi_score, ref, 50) < vendi_score(ref)
        True
    """
    reference = np.asarray(reference)
    values = [metric(reference[idx]) for idx in random_subsets(len(reference), n, draws, seed)]
    return float(np.median(values)) if values else float("nan")


def size_matched_texts_baseline(
    metric: Callable[[Sequence[str]], float],
    texts: Sequence[str],
    n: int,
    *,
    draws: int = 5,
    seed: int = 0,
) -> float:
    """Median of a text `metric` over `draws` random subsets of min(n, len) `texts`.

    Deterministic for a given seed; NaN when the subsets would be empty.

    Example:
        >>> from functools import partial
        >>> from checks.metrics import distinct_n
        >>> texts = ["a b", "a c", "a b", "b c"]
        >>> size_matched_texts_baseline(partial(distinct_n, n=1), texts, 4)
        0.375
    """
    values = [metric([texts[i] for i in idx]) for idx in random_subsets(len(texts), n, draws, seed)]
    return float(np.median(values)) if values else float("nan")
