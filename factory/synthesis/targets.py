"""Target vectors and request seeds: pure, deterministic arithmetic on unit vectors.

Example:
    >>> import numpy as np
    >>> t = np.array([1.0, 0.0], dtype=np.float32)
    >>> a = np.array([[0.8, 0.6], [0.8, -0.6]], dtype=np.float32)
    >>> interpolation_targets(t, a, budget=3).shape
    (3, 2)
    >>> derive_seed(0, "gap", 1, 2) == derive_seed(0, "gap", 1, 2)
    True
"""

from __future__ import annotations

import numpy as np

from factory.hashing import fingerprint

__all__ = [
    "DEFAULT_SPREAD",
    "derive_seed",
    "interpolation_alphas",
    "interpolation_targets",
    "nearest",
]

DEFAULT_SPREAD = 0.5
"""Largest |alpha| in t = normalize(target + alpha * (a_j - a_k))."""


def derive_seed(base_seed: int, gap_id: str, target_index: int, candidate_index: int) -> int:
    """Request seed in [0, 2**31) derived from the base seed, gap, target and candidate."""
    digest = fingerprint("synthesis-seed", base_seed, gap_id, target_index, candidate_index)
    return int(digest[:8], 16) & 0x7FFFFFFF


def interpolation_alphas(budget: int, spread: float = DEFAULT_SPREAD) -> np.ndarray:
    """`budget` alphas spread evenly over (-spread, spread), symmetric; shape (budget,)."""
    i = np.arange(budget, dtype=np.float64)
    return spread * (2.0 * (i + 0.5) / max(budget, 1) - 1.0)


def nearest(vectors: np.ndarray, target: np.ndarray, k: int) -> np.ndarray:
    """Row indexes of the `k` rows of `vectors` (n, d) closest to `target` (d,), nearest first."""
    sims = vectors @ target
    order = np.lexsort((np.arange(len(sims)), -sims))  # ties: lower index first
    return order[:k]


def interpolation_targets(
    target: np.ndarray, anchors: np.ndarray, budget: int, spread: float = DEFAULT_SPREAD
) -> np.ndarray:
    """Unit targets normalize(target + alpha_i (a_j - a_k)) over anchor pairs; shape (budget, d).

    `anchors` (m, d) is ordered nearest-first; target i uses pair i mod m(m-1)/2 in (j, k) order
    and the i-th alpha of `interpolation_alphas`; with fewer than two anchors every target is
    the gap target itself.
    """
    target = np.asarray(target, dtype=np.float64)
    target = target / np.linalg.norm(target)
    m = len(anchors)
    pairs = [(j, k) for j in range(m) for k in range(j + 1, m)]
    out = np.empty((budget, target.shape[0]), dtype=np.float64)
    for i, alpha in enumerate(interpolation_alphas(budget, spread)):
        point = target
        if pairs:
            j, k = pairs[i % len(pairs)]
            point = target + alpha * (anchors[j].astype(np.float64) - anchors[k])
        norm = np.linalg.norm(point)
        out[i] = point / norm if norm > 1e-12 else target
    return out.astype(np.float32)
