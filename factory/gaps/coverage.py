"""Coverage against a reference: places where a reference set is dense and the corpus thin.

The reference is an unlabelled sample of the distribution the corpus should cover (production
queries, a broader corpus; by default the validation split). Around each reference point q the
ball holding its `k` nearest documents of reference and train together is taken; with c_ref
reference and c_train train documents in it, c_ref * n_train / n_reference train documents are
expected there if the corpus followed the reference (a k-NN density ratio), c_train are observed.
Short reference points are grouped with the short points inside their balls and those points'
balls (two hops); a group of at least `min_support` points is one gap, its observed and expected
counts summed over the group, its target the group's mean direction.

Example:
    >>> found = coverage_candidates(space, ref_ids, ref_vectors, 0.3, 4, 30, 3)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from factory.errors import FactoryError
from factory.gaps.candidates import COVERAGE, GapCandidate, shortfall
from factory.gaps.space import TrainSpace, normalized
from factory.mapping.density import knn, unit_rows

__all__ = ["coverage_candidates"]

_HOPS = 2  # a gap's reference points: the short points within this many balls of its seed


def coverage_candidates(
    space: TrainSpace,
    reference_ids: list[str],
    reference: np.ndarray,
    min_shortfall: float,
    anchors_per_gap: int,
    limit: int,
    min_support: int,
    train_sims: np.ndarray | None = None,
) -> list[GapCandidate]:
    """Up to `limit` coverage gaps, largest shortfall first; `reference` has shape (m, d).

    `train_sims` (m, >= k), aligned with `reference_ids`, are the reference points' cosines to
    their nearest train documents when already known (reference documents that are in the map).
    """
    ref = unit_rows(reference)
    m = ref.shape[0]
    if len(reference_ids) != m:
        msg = f"{len(reference_ids)} reference ids for {m} reference vectors; pass one id per row"
        raise FactoryError(msg)
    if ref.shape[1] != space.vectors.shape[1]:
        msg = (
            f"reference vectors are {ref.shape[1]}-d but the corpus is "
            f"{space.vectors.shape[1]}-d; embed the reference with the corpus's model"
        )
        raise FactoryError(msg)
    if m < max(min_support, 3):
        return []
    order = np.argsort(np.array(reference_ids), kind="stable")
    ids = [reference_ids[i] for i in order]
    ref = ref[order]
    ball = min(space.k, m - 1 + space.size)
    ref_sims, ref_idx = knn(ref, ref, min(ball, m - 1), self_index=np.arange(m))
    if train_sims is not None and train_sims.shape[1] >= min(ball, space.size):
        train_sims = train_sims[order][:, : min(ball, space.size)]
    else:
        train_sims, _ = space.index.search(ref, min(ball, space.size))
    both = np.concatenate([ref_sims, train_sims], axis=1)
    edge = -np.partition(-both, ball - 1, axis=1)[:, ball - 1]  # the ball's radius (cosine)
    c_train = (train_sims >= edge[:, None]).sum(axis=1)
    c_ref = ball - c_train
    observed = c_train.astype(np.float64)
    expected = c_ref * space.size / m
    falls = np.array([shortfall(o, e) for o, e in zip(observed, expected, strict=True)])
    short = falls >= min_shortfall
    inside = [
        [int(j) for j, s in zip(ref_idx[q], ref_sims[q], strict=True) if s >= edge[q] and short[j]]
        for q in range(m)
    ]
    pool = sorted(np.nonzero(short)[0], key=lambda i: (-falls[i], -edge[i], ids[i]))
    found: list[GapCandidate] = []
    used = np.zeros(m, dtype=bool)
    for q in pool:
        if used[q]:
            continue
        members = sorted({int(q), *inside[q]})
        for _ in range(_HOPS - 1):
            members = sorted({j for i in members for j in [i, *inside[i]]})
        members = [j for j in members if not used[j]]
        if len(members) < min_support:
            continue
        used[members] = True
        target = normalized(ref[members].mean(axis=0))
        anchors = space.nearest(target, anchors_per_gap)
        obs, exp = float(observed[members].sum()), float(expected[members].sum())
        found.append(
            GapCandidate(
                kind=COVERAGE,
                observed=obs,
                expected=exp,
                target=target,
                anchors=anchors,
                rationale=(
                    f"coverage gap near {space.label_near(target)}: around {len(members)} "
                    f"reference documents, {obs / len(members):.1f} train documents on average "
                    f"where {exp / len(members):.1f} were expected from the reference "
                    f"(density ratio {obs / exp if exp else 0.0:.2f})"
                ),
                tie_break=-float(len(members)),
                evidence=sorted(ids[j] for j in members),
            )
        )
        if len(found) == limit:
            break
    return found
