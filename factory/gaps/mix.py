"""Under-represented labels or clusters against the target mix declared in the config.

The mix is "uniform" (every group present in train gets an equal share) or a mapping from group
to share (normalized to sum to 1). Groups are the task labels when the train split has any,
else the HDBSCAN clusters. Expected = share * train documents in groups; observed = the group's
train documents. A group the mix names but train lacks entirely has no anchor to write from: it
is reported in the notes, not as a gap.

Example:
    >>> found, notes = mix_candidates(space, groups, "uniform", 0.3, 4, 30)  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np

from factory.errors import FactoryError
from factory.gaps.candidates import UNDER_REPRESENTED, GapCandidate, shortfall
from factory.gaps.space import TrainSpace, normalized

__all__ = ["mix_candidates", "train_groups"]


def train_groups(space: TrainSpace, labels: Mapping[str, str | None] | None) -> list[str | None]:
    """Per train row its group: the label when train has labels, else 'cluster <id>' (or None)."""
    if labels is not None:
        grouped = [labels.get(d) for d in space.ids]
        if any(g is not None for g in grouped):
            return grouped
    return [f"cluster {c}" if c >= 0 else None for c in space.cluster_of.tolist()]


def mix_candidates(
    space: TrainSpace,
    groups: list[str | None],
    target_mix: str | Mapping[str, float],
    min_shortfall: float,
    anchors_per_gap: int,
    limit: int,
) -> tuple[list[GapCandidate], list[str]]:
    """Under-represented groups, largest shortfall first, and notes on groups with no train."""
    counts = Counter(g for g in groups if g is not None)
    if not counts:
        return [], ["no labels or clusters in train: the target mix was not checked"]
    shares = _shares(target_mix, sorted(counts))
    total = sum(counts.values())
    notes = [
        f"{g!r} has a target share of {s:.1%} but no train documents: add some to write from"
        for g, s in sorted(shares.items())
        if s > 0 and counts.get(g, 0) == 0
    ]
    name = "uniform" if isinstance(target_mix, str) else "declared"
    group_arr = np.array([g if g is not None else "" for g in groups], dtype=object)
    found: list[GapCandidate] = []
    for group, share in shares.items():
        observed, expected = counts.get(group, 0), share * total
        if observed == 0 or shortfall(observed, expected) < min_shortfall:
            continue
        rows = np.nonzero((group_arr == group) & ~space.outlier)[0]
        rows = rows if rows.size else np.nonzero(group_arr == group)[0]
        target = normalized(space.vectors[rows].mean(axis=0))
        sims = space.vectors[rows] @ target
        anchors = [int(rows[i]) for i in np.lexsort((rows, -sims))[:anchors_per_gap]]
        found.append(
            GapCandidate(
                kind=UNDER_REPRESENTED,
                observed=float(observed),
                expected=float(expected),
                target=target,
                anchors=anchors,
                rationale=(
                    f"{group!r} has {observed} train documents, {expected:.0f} expected under "
                    f"the {name} target mix ({share:.1%} of {total}): short by "
                    f"{expected - observed:.0f}"
                ),
                tie_break=-(expected - observed),
            )
        )
    found.sort(key=lambda g: (-g.shortfall, g.tie_break, g.rationale))
    return found[:limit], notes


def _shares(target_mix: str | Mapping[str, float], present: list[str]) -> dict[str, float]:
    if isinstance(target_mix, str):
        if target_mix != "uniform":
            msg = f"unknown target mix {target_mix!r}; expected 'uniform' or a mapping to shares"
            raise FactoryError(msg)
        return {g: 1.0 / len(present) for g in present}
    bad = {g: s for g, s in target_mix.items() if not s >= 0}
    total = float(sum(target_mix.values()))
    if bad or total <= 0:
        msg = f"target mix shares must be >= 0 and sum above 0, got {dict(target_mix)}"
        raise FactoryError(msg)
    return {str(g): float(s) / total for g, s in sorted(target_mix.items())}
