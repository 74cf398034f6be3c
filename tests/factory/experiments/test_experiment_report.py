"""The report: per-condition summaries, the Markdown table, the JSON object and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.experiments import CONDITIONS, UtilityResult, markdown_report, summarize
from factory.experiments.report import gap_closure, plot_conditions, result_json, write_json
from factory.experiments.utility import SeedOutcome

ACCURACY = {
    "train_only": 0.80, "untargeted": 0.81, "targeted": 0.83, "adversarial": 0.82,
    "full_data": 0.86,
}  # fmt: skip
CUT = {
    "train_only": 0.30, "untargeted": 0.32, "targeted": 0.45, "adversarial": 0.41,
    "full_data": 0.60,
}  # fmt: skip
PRECISION = {"untargeted": 0.9, "targeted": 0.75, "adversarial": 0.6}


def _outcomes() -> list[SeedOutcome]:
    out = []
    for seed in (0, 1, 2):
        for condition in reversed(CONDITIONS):  # the report restores the protocol's order
            n = 0 if condition in ("train_only", "full_data") else 48
            out.append(
                SeedOutcome(
                    condition,
                    seed,
                    ACCURACY[condition] + 0.01 * seed,
                    CUT[condition] + 0.02 * seed,
                    n_synthetic=max(0, n - seed),
                    n_requested=n,
                    n_synthetic_cut=n // 4,
                    label_precision=PRECISION.get(condition),
                    label_precision_cut=PRECISION.get(condition),
                )
            )
    return out


def _result(outcomes: list[SeedOutcome], tmp_path: Path) -> UtilityResult:
    return UtilityResult("quick", outcomes, {"cut_intents": ["a", "b"]}, {"seeds": [0, 1, 2]},
                         12.5, tmp_path)  # fmt: skip


def test_summaries_follow_the_protocol_order_with_means_over_seeds() -> None:
    rows = summarize(_outcomes())
    assert [r.condition for r in rows] == list(CONDITIONS)
    targeted = rows[2]
    assert targeted.accuracy.mean == pytest.approx(0.84)
    assert targeted.accuracy_cut.mean == pytest.approx(0.47)
    assert targeted.accuracy.low is not None
    assert targeted.accuracy.low < 0.84
    assert targeted.n_synthetic == pytest.approx(47.0)
    assert targeted.seeds == [0, 1, 2]
    with pytest.raises(FactoryError, match="no outcomes"):
        summarize([])


def test_markdown_table_has_one_row_per_condition() -> None:
    table = markdown_report(summarize(_outcomes()))
    lines = table.splitlines()
    assert lines[0].startswith("| condition |")
    assert "95% CI (3 seeds)" in lines[0]
    assert len(lines) == 2 + len(CONDITIONS)
    assert lines[2].startswith("| (a) train only | — | —; — | 0.810 [")
    assert lines[4].startswith("| (c) + gap-targeted | 47 of 48 (12) | 0.75; 0.75 | 0.840 [")
    assert lines[4].endswith("| 0.50 [0.50, 0.50] |")  # (0.45 - 0.30) / (0.60 - 0.30) each seed
    assert lines[6].startswith("| (e) full data (ceiling) | — | —; — | 0.870 [")
    assert lines[6].endswith("| — |")


def test_json_holds_one_object_per_condition_with_intervals(tmp_path: Path) -> None:
    result = _result(_outcomes(), tmp_path)
    path = write_json(result, tmp_path / "out" / "utility.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data == json.loads(json.dumps(result_json(result)))
    assert data["mode"] == "quick"
    assert [c["condition"] for c in data["conditions"]] == list(CONDITIONS)
    for item in data["conditions"]:
        for key in ("accuracy", "accuracy_cut", "n_synthetic"):
            assert isinstance(item[key], float | int), key
        low, high = item["accuracy_ci95"]
        assert low < item["accuracy"] < high
        low, high = item["accuracy_cut_ci95"]
        assert low < item["accuracy_cut"] < high
        assert len(item["per_seed"]) == 3


def test_json_refuses_nan(tmp_path: Path) -> None:
    broken = [SeedOutcome("train_only", 0, 0.8, float("nan"), 0, 0)]
    with pytest.raises(FactoryError, match="finite"):
        summarize(broken)
    one = [SeedOutcome("train_only", 0, 0.8, 0.3, 0, 0)]
    data = result_json(_result(one, tmp_path))
    assert data["conditions"][0]["accuracy_ci95"] == [None, None]
    assert data["conditions"][0]["n_synthetic_cut"] is None
    assert data["conditions"][0]["gap_closure"] is None
    assert "| (a) train only | — |" in markdown_report(summarize(one))


def test_plot_is_a_png(tmp_path: Path) -> None:
    png = plot_conditions(summarize(_outcomes()), tmp_path / "plots" / "u.png", "utility")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000


def test_gap_closure_is_the_share_of_the_damage_repaired() -> None:
    assert gap_closure(0.45, 0.30, 0.60) == pytest.approx(0.5)
    assert gap_closure(0.30, 0.30, 0.60) == 0.0
    assert gap_closure(0.20, 0.30, 0.60) == pytest.approx(-1 / 3)  # harm is negative closure
    assert gap_closure(0.70, 0.30, 0.60) == pytest.approx(4 / 3)  # beyond the ceiling
    assert gap_closure(0.50, 0.40, 0.40) is None  # zero denominator: nothing to close
    assert gap_closure(0.50, 0.40, 0.35) is None  # the ceiling below train only


def test_closure_pairs_seeds_and_skips_those_without_a_ceiling() -> None:
    outcomes = [
        SeedOutcome("train_only", 0, 0.8, 0.30, 0, 0),
        SeedOutcome("full_data", 0, 0.9, 0.60, 0, 0),
        SeedOutcome("targeted", 0, 0.8, 0.45, 10, 10),
        SeedOutcome("train_only", 1, 0.8, 0.50, 0, 0),
        SeedOutcome("full_data", 1, 0.9, 0.50, 0, 0),  # no damage on this seed
        SeedOutcome("targeted", 1, 0.8, 0.55, 10, 10),
    ]
    targeted = next(s for s in summarize(outcomes) if s.condition == "targeted")
    assert targeted.gap_closure is not None
    assert targeted.gap_closure.n == 1
    assert targeted.gap_closure.mean == pytest.approx(0.5)
    assert targeted.label_precision is None  # outcomes stored without the oracle's view


def test_the_intervals_say_what_they_cover(tmp_path: Path) -> None:
    shared = UtilityResult("standard", _outcomes(), {}, {"shares_synthesis": True}, 1.0, tmp_path)
    assert "training randomness only" in result_json(shared)["intervals_cover"]
    varied = _result(_outcomes(), tmp_path)
    assert "synthesis randomness" in result_json(varied)["intervals_cover"]
