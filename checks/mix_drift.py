"""Distilled bias: does adding the synthetic set move the train mix away from the target mix?

A group is a task label, or for unlabelled tasks a cluster id passed as a string. The target mix
follows `factory.gaps.mix`: "uniform" gives every group present in train an equal share, a
mapping gives each named group its share (normalized to sum to 1). With no declared mix (None)
the target is the train split's own mix: the synthetic set must then keep the corpus's mix.

Drift is the total variation distance to the target, before (train alone) and after (train plus
synthetic rows). A positive change means the synthetic set pushed the mix away from the target.

Example:
    >>> drift = mix_drift(["a", "a", "a", "b"], ["b", "b"], "uniform")
    >>> drift.before, round(drift.after, 4), round(drift.change, 4)
    (0.25, 0.0, -0.25)
    >>> mix_drift(["a", "b"], ["a", "a"], "uniform").most_grown
    'a'
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from factory.errors import ConfigError

__all__ = ["MixDrift", "group_shares", "mix_drift", "target_shares", "total_variation"]

_NOISE = 1e-12  # share changes below this are rounding, not growth


@dataclass(frozen=True)
class MixDrift:
    """Total variation distance to the target mix before and after adding the synthetic rows.

    `most_grown` is the group whose excess over its target share grew most (by
    `most_grown_delta`, in share points); None when no group's excess grew.
    """

    before: float
    after: float
    change: float
    most_grown: str | None
    most_grown_delta: float


def _shares_of(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {g: counts[g] / total for g in sorted(counts)} if total else {}


def group_shares(groups: Iterable[str | None]) -> dict[str, float]:
    """Share of each group among the non-None entries, sorted by group; empty when none."""
    return _shares_of(Counter(g for g in groups if g is not None))


def target_shares(
    target_mix: str | Mapping[str, float] | None, train_groups: Sequence[str | None]
) -> dict[str, float]:
    """The target share of each group, summing to 1 (empty when train has no groups for it).

    "uniform": equal over the groups present in train; a mapping: its shares normalized; None:
    the train split's own shares.
    """
    if target_mix is None:
        return group_shares(train_groups)
    if isinstance(target_mix, str):
        if target_mix != "uniform":
            msg = (
                f"unknown target mix {target_mix!r}; expected 'uniform', a mapping from group "
                "to share such as {'refund': 0.5, 'card': 0.5}, or none to keep the train mix"
            )
            raise ConfigError(msg)
        present = sorted({g for g in train_groups if g is not None})
        return {g: 1.0 / len(present) for g in present}
    bad = {g: s for g, s in target_mix.items() if not (math.isfinite(s) and s >= 0)}
    if bad:
        msg = f"target mix shares must be finite and >= 0, got {bad}; fix or drop those groups"
        raise ConfigError(msg)
    total = float(sum(target_mix.values()))
    if total <= 0:
        msg = (
            f"target mix shares sum to {total:g} in {dict(target_mix)}; give at least one "
            "group a share above 0, or use 'uniform'"
        )
        raise ConfigError(msg)
    return {str(g): float(s) / total for g, s in sorted(target_mix.items())}


def total_variation(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """0.5 * sum of |p - q| over the union of keys (a missing key counts as 0)."""
    keys = set(p) | set(q)
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in keys)


def mix_drift(
    train_groups: Sequence[str | None],
    synthetic_groups: Sequence[str | None],
    target_mix: str | Mapping[str, float] | None,
) -> MixDrift:
    """Drift of the train mix and of the train + synthetic mix from the target (None ignored).

    `before` is NaN when train has no groups, `after` when neither split has any.
    """
    target = target_shares(target_mix, train_groups)
    train_counts = Counter(g for g in train_groups if g is not None)
    mixed_counts = train_counts + Counter(g for g in synthetic_groups if g is not None)
    before_shares, after_shares = _shares_of(train_counts), _shares_of(mixed_counts)
    nan = float("nan")
    before = total_variation(before_shares, target) if before_shares and target else nan
    after = total_variation(after_shares, target) if after_shares and target else nan
    most_grown: str | None = None
    most_grown_delta = 0.0
    if target:
        for group in sorted(set(target) | set(after_shares)):
            share = target.get(group, 0.0)
            excess_before = max(before_shares.get(group, 0.0) - share, 0.0)
            excess_after = max(after_shares.get(group, 0.0) - share, 0.0)
            delta = excess_after - excess_before
            if delta > most_grown_delta + _NOISE:
                most_grown, most_grown_delta = group, delta
    return MixDrift(
        before=before,
        after=after,
        change=after - before,
        most_grown=most_grown,
        most_grown_delta=most_grown_delta,
    )
