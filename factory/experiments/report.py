"""The utility experiment's report: per-condition intervals, a Markdown table, JSON and a plot.

For each synthetic condition x, the gap closure on the cut intents is, per seed,
(acc_cut(x) - acc_cut(a)) / (acc_cut(e) - acc_cut(a)): the share of what the cut took away that
x brings back (0: nothing, 1: all of it), with its interval over the seeds. A seed whose ceiling
(e) is no better than (a) on the cut intents has no closure (there was nothing to close).

Example:
    >>> rows = summarize([SeedOutcome("train_only", 0, 0.8, 0.4, 0, 0),
    ...                   SeedOutcome("train_only", 1, 0.82, 0.44, 0, 0)])
    >>> rows[0].accuracy.n, round(rows[0].accuracy_cut.mean, 2)
    (2, 0.42)
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.errors import FactoryError
from factory.experiments.intervals import Interval, t_interval
from factory.experiments.utility import (
    CONDITION_LABELS,
    CONDITIONS,
    SYNTHETIC_CONDITIONS,
    SeedOutcome,
    UtilityResult,
)

__all__ = [
    "ConditionSummary",
    "UtilityReport",
    "gap_closure",
    "intervals_cover",
    "markdown_report",
    "plot_conditions",
    "result_json",
    "summarize",
    "write_json",
    "write_report",
]


@dataclass(frozen=True)
class ConditionSummary:
    """One condition over its seeds."""

    condition: str
    accuracy: Interval
    accuracy_cut: Interval
    n_synthetic: float
    """Mean accepted synthetic rows per seed."""
    n_requested: float
    n_synthetic_cut: float | None
    """Mean synthetic rows labelled with a cut intent (None when an outcome lacks it)."""
    seeds: list[int]
    outcomes: list[SeedOutcome]
    label_precision: float | None = None
    """Mean oracle label precision of the accepted synthetic rows (None: no synthetic rows)."""
    label_precision_cut: float | None = None
    gap_closure: Interval | None = None
    """Gap closure on the cut intents over the seeds that have one (synthetic conditions)."""

    @property
    def label(self) -> str:
        """The table's name of the condition, e.g. `(c) + gap-targeted`."""
        return CONDITION_LABELS.get(self.condition, self.condition)

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of this condition."""
        return {
            "condition": self.condition,
            "label": self.label,
            "accuracy": self.accuracy.mean,
            "accuracy_ci95": self.accuracy.as_list(),
            "accuracy_cut": self.accuracy_cut.mean,
            "accuracy_cut_ci95": self.accuracy_cut.as_list(),
            "n_synthetic": self.n_synthetic,
            "n_requested": self.n_requested,
            "n_synthetic_cut": self.n_synthetic_cut,
            "label_precision": self.label_precision,
            "label_precision_cut": self.label_precision_cut,
            "gap_closure": None if self.gap_closure is None else self.gap_closure.mean,
            "gap_closure_ci95": None if self.gap_closure is None else self.gap_closure.as_list(),
            "seeds": self.seeds,
            "per_seed": [
                {
                    "seed": o.seed,
                    "accuracy": o.accuracy,
                    "accuracy_cut": o.accuracy_cut,
                    "n_synthetic": o.n_synthetic,
                    "n_requested": o.n_requested,
                    "n_synthetic_cut": o.n_synthetic_cut,
                    "label_precision": o.label_precision,
                    "label_precision_cut": o.label_precision_cut,
                    "teacher_calls": o.teacher_calls,
                    "cache_hits": o.cache_hits,
                    "notes": o.notes,
                }
                for o in self.outcomes
            ],
        }


def gap_closure(cut_x: float, cut_a: float, cut_e: float) -> float | None:
    """(cut_x - cut_a) / (cut_e - cut_a): the share of the cut's damage on the cut intents that
    condition x repairs; None when the ceiling is no better than train only (nothing to close).

    Example:
        >>> gap_closure(0.75, 0.6, 0.9)
        0.5
        >>> gap_closure(0.7, 0.6, 0.6) is None
        True
    """
    damage = cut_e - cut_a
    if not damage > 1e-9:
        return None
    return (cut_x - cut_a) / damage


def _closures(mine: list[SeedOutcome], outcomes: list[SeedOutcome]) -> list[float]:
    """Per seed of `mine`, its gap closure against the same seed's (a) and (e), where defined."""
    by = {(o.condition, o.seed): o for o in outcomes}
    found = []
    for o in mine:
        a, e = by.get(("train_only", o.seed)), by.get(("full_data", o.seed))
        if a is None or e is None:
            continue
        closure = gap_closure(o.accuracy_cut, a.accuracy_cut, e.accuracy_cut)
        if closure is not None:
            found.append(closure)
    return found


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def summarize(outcomes: list[SeedOutcome]) -> list[ConditionSummary]:
    """One summary per condition present, in the protocol's order (a, b, c, d, e)."""
    if not outcomes:
        msg = "no outcomes to summarize; run at least one condition with one seed"
        raise FactoryError(msg)
    order = [c for c in CONDITIONS if any(o.condition == c for o in outcomes)]
    order += sorted({o.condition for o in outcomes} - set(order))
    out = []
    for condition in order:
        mine = sorted((o for o in outcomes if o.condition == condition), key=lambda o: o.seed)
        cut = [o.n_synthetic_cut for o in mine]
        closures = _closures(mine, outcomes) if condition in SYNTHETIC_CONDITIONS else []
        out.append(
            ConditionSummary(
                condition=condition,
                accuracy=t_interval([o.accuracy for o in mine]),
                accuracy_cut=t_interval([o.accuracy_cut for o in mine]),
                n_synthetic=sum(o.n_synthetic for o in mine) / len(mine),
                n_requested=sum(o.n_requested for o in mine) / len(mine),
                n_synthetic_cut=None if None in cut else sum(cut) / len(cut),  # type: ignore[arg-type]
                seeds=[o.seed for o in mine],
                outcomes=mine,
                label_precision=_mean([o.label_precision for o in mine]),
                label_precision_cut=_mean([o.label_precision_cut for o in mine]),
                gap_closure=t_interval(closures) if closures else None,
            )
        )
    return out


def markdown_report(summaries: list[ConditionSummary]) -> str:
    """The Markdown table: rows per condition, mean [95% interval] over seeds."""
    seeds = max(len(s.seeds) for s in summaries)
    lines = [
        f"| condition | synthetic rows of N (in cut intents) | label precision (oracle; cut "
        f"intents) | accuracy, 95% CI ({seeds} seeds) | accuracy on cut intents, 95% CI "
        "| gap closure on cut intents, 95% CI |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        cut = "n/a" if s.n_synthetic_cut is None else _count(s.n_synthetic_cut)
        rows = (
            "—"
            if s.condition not in SYNTHETIC_CONDITIONS
            else (f"{_count(s.n_synthetic)} of {_count(s.n_requested)} ({cut})")
        )
        closure = "—" if s.gap_closure is None else s.gap_closure.describe(2)
        lines.append(
            f"| {s.label} | {rows} | {_share(s.label_precision)}; {_share(s.label_precision_cut)} "
            f"| {s.accuracy.describe()} | {s.accuracy_cut.describe()} | {closure} |"
        )
    return "\n".join(lines)


def intervals_cover(result: UtilityResult) -> str:
    """What the run's intervals are about, in words."""
    if result.settings.get("shares_synthesis"):
        return (
            "training randomness only: one synthesis per condition serves every seed, so the "
            "intervals do not cover which synthetic rows come out"
        )
    return "training and synthesis randomness: each seed reseeds the teacher's sampling"


def result_json(result: UtilityResult) -> dict[str, Any]:
    """Everything about a run as plain data: settings, the data protocol and the conditions."""
    return {
        "experiment": "utility",
        "mode": result.mode,
        "seconds": round(result.seconds, 1),
        "intervals_cover": intervals_cover(result),
        "settings": result.settings,
        "data": result.data,
        "conditions": [s.as_dict() for s in summarize(result.outcomes)],
    }


def write_json(result: UtilityResult, path: Path) -> Path:
    """Write `result_json` to `path` (folders created); NaN and infinities are refused."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = json.dumps(result_json(result), indent=1, allow_nan=False)
    except ValueError as exc:
        msg = f"the experiment result holds a NaN or infinite value ({exc}); nothing written"
        raise FactoryError(msg) from exc
    path.write_text(text + "\n", encoding="utf-8")
    return path


def plot_conditions(summaries: list[ConditionSummary], path: Path, title: str) -> Path:
    """A PNG of accuracy and accuracy on the cut intents per condition, with 95% bars."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.38
    positions = list(range(len(summaries)))
    for shift, name, colour in (
        (-width / 2, "accuracy", "#4477aa"),
        (width / 2, "accuracy_cut", "#cc6677"),
    ):
        means, errors = [], [[], []]
        for s in summaries:
            iv: Interval = getattr(s, name)
            means.append(iv.mean)
            low = iv.mean if iv.low is None else iv.low
            high = iv.mean if iv.high is None else iv.high
            errors[0].append(iv.mean - low)
            errors[1].append(high - iv.mean)
        label = "accuracy (test)" if name == "accuracy" else "accuracy on cut intents (test)"
        ax.bar([p + shift for p in positions], means, width, yerr=errors, capsize=4,
               color=colour, label=label)  # fmt: skip
    ax.set_xticks(positions, [textwrap.fill(s.label, 18) for s in summaries])
    ax.set_ylim(0.0, 1.12)  # headroom above 1.0 keeps the legend off the bars
    ax.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel("accuracy (mean over seeds, 95% interval)")
    ax.set_title(title)
    ax.legend(loc="upper left", ncol=2)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


@dataclass(frozen=True)
class UtilityReport:
    """What a run leaves for its readers: the table, and where its plot and JSON are."""

    summaries: list[ConditionSummary]
    table: str
    plot_path: Path
    json_path: Path


def write_report(result: UtilityResult, json_path: Path | None = None) -> UtilityReport:
    """The Markdown table, `utility-<mode>.png` and `utility-<mode>.json` of a run (the JSON in
    the run's work folder unless `json_path` is given)."""
    summaries = summarize(result.outcomes)
    stem = result.work_dir / f"utility-{result.mode}"
    plot = plot_conditions(
        summaries, stem.with_suffix(".png"), f"utility experiment ({result.mode})"
    )
    written = write_json(result, json_path or stem.with_suffix(".json"))
    table = markdown_report(summaries) + f"\n\nIntervals cover {intervals_cover(result)}."
    return UtilityReport(summaries, table, plot, written)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _count(value: float) -> str:
    return str(int(value)) if math.isclose(value, round(value)) else f"{value:.1f}"
