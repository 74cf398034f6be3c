"""The utility experiment's report: per-condition intervals, a Markdown table, JSON and a plot.

Example:
    >>> rows = summarize([SeedOutcome("train_only", 0, 0.8, 0.4, 0, 0),
    ...                   SeedOutcome("train_only", 1, 0.82, 0.44, 0, 0)])
    >>> rows[0].accuracy.n, round(rows[0].accuracy_cut.mean, 2)
    (2, 0.42)
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.errors import FactoryError
from factory.experiments.intervals import Interval, t_interval
from factory.experiments.utility import CONDITION_LABELS, CONDITIONS, SeedOutcome, UtilityResult

__all__ = [
    "ConditionSummary",
    "UtilityReport",
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
            "seeds": self.seeds,
            "per_seed": [
                {
                    "seed": o.seed,
                    "accuracy": o.accuracy,
                    "accuracy_cut": o.accuracy_cut,
                    "n_synthetic": o.n_synthetic,
                    "n_requested": o.n_requested,
                    "n_synthetic_cut": o.n_synthetic_cut,
                    "teacher_calls": o.teacher_calls,
                    "cache_hits": o.cache_hits,
                    "notes": o.notes,
                }
                for o in self.outcomes
            ],
        }


def summarize(outcomes: list[SeedOutcome]) -> list[ConditionSummary]:
    """One summary per condition present, in the protocol's order (a, b, c, d)."""
    if not outcomes:
        msg = "no outcomes to summarize; run at least one condition with one seed"
        raise FactoryError(msg)
    order = [c for c in CONDITIONS if any(o.condition == c for o in outcomes)]
    order += sorted({o.condition for o in outcomes} - set(order))
    out = []
    for condition in order:
        mine = sorted((o for o in outcomes if o.condition == condition), key=lambda o: o.seed)
        cut = [o.n_synthetic_cut for o in mine]
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
            )
        )
    return out


def markdown_report(summaries: list[ConditionSummary]) -> str:
    """The Markdown table: rows per condition, mean [95% interval] over seeds."""
    seeds = max(len(s.seeds) for s in summaries)
    lines = [
        f"| condition | synthetic rows of N (in cut intents) | accuracy, 95% CI ({seeds} seeds) "
        "| accuracy on cut intents, 95% CI |",
        "|---|---|---|---|",
    ]
    for s in summaries:
        cut = "n/a" if s.n_synthetic_cut is None else _count(s.n_synthetic_cut)
        lines.append(
            f"| {s.label} | {_count(s.n_synthetic)} of {_count(s.n_requested)} ({cut}) "
            f"| {s.accuracy.describe()} | {s.accuracy_cut.describe()} |"
        )
    return "\n".join(lines)


def result_json(result: UtilityResult) -> dict[str, Any]:
    """Everything about a run as plain data: settings, the data protocol and the conditions."""
    return {
        "experiment": "utility",
        "mode": result.mode,
        "seconds": round(result.seconds, 1),
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
    ax.set_xticks(positions, [s.label for s in summaries])
    ax.set_ylim(0.0, 1.0)
    ax.set_ylabel("accuracy (mean over seeds, 95% interval)")
    ax.set_title(title)
    ax.legend(loc="lower right")
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
    return UtilityReport(summaries, markdown_report(summaries), plot, written)


def _count(value: float) -> str:
    return str(int(value)) if math.isclose(value, round(value)) else f"{value:.1f}"
