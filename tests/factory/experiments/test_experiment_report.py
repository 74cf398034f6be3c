"""The report: per-condition summaries, the Markdown table, the JSON object and the plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.experiments import CONDITIONS, UtilityResult, markdown_report, summarize
from factory.experiments.report import plot_conditions, result_json, write_json
from factory.experiments.utility import SeedOutcome

ACCURACY = {"train_only": 0.80, "untargeted": 0.81, "targeted": 0.83, "adversarial": 0.82}
CUT = {"train_only": 0.30, "untargeted": 0.32, "targeted": 0.45, "adversarial": 0.41}


def _outcomes() -> list[SeedOutcome]:
    out = []
    for seed in (0, 1, 2):
        for condition in reversed(CONDITIONS):  # the report restores the protocol's order
            n = 0 if condition == "train_only" else 48
            out.append(
                SeedOutcome(
                    condition,
                    seed,
                    ACCURACY[condition] + 0.01 * seed,
                    CUT[condition] + 0.02 * seed,
                    n_synthetic=max(0, n - seed),
                    n_requested=n,
                    n_synthetic_cut=n // 4,
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
    assert lines[2].startswith("| (a) train only | 0 of 0 (0) | 0.810 [")
    assert lines[4].startswith("| (c) + gap-targeted | 47 of 48 (12) | 0.840 [")


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
    assert "| 0 of 0 (n/a) |" in markdown_report(summarize(one))


def test_plot_is_a_png(tmp_path: Path) -> None:
    png = plot_conditions(summarize(_outcomes()), tmp_path / "plots" / "u.png", "utility")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png.stat().st_size > 10_000
