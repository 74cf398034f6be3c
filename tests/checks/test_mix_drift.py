"""Mix drift of train + synthetic rows against uniform, declared and train-own target mixes."""

from __future__ import annotations

import doctest
import math

import pytest

import checks.mix_drift
from checks.mix_drift import MixDrift, group_shares, mix_drift, target_shares, total_variation
from factory.errors import ConfigError

# 60 / 30 / 10 over three labels, one unlabelled row
TRAIN: list[str | None] = ["card"] * 60 + ["refund"] * 30 + ["atm"] * 10 + [None]


def test_module_example_runs() -> None:
    result = doctest.testmod(checks.mix_drift)
    assert result.attempted > 0
    assert result.failed == 0


def test_group_shares() -> None:
    assert group_shares(["b", "a", None, "b", "b"]) == {"a": 0.25, "b": 0.75}
    assert list(group_shares(["b", "a"])) == ["a", "b"]
    assert group_shares([None, None]) == {}
    assert group_shares([]) == {}


def test_target_shares_uniform_mapping_and_none() -> None:
    third = pytest.approx(1 / 3)
    assert target_shares("uniform", TRAIN) == {"atm": third, "card": third, "refund": third}
    assert target_shares({"card": 2, "atm": 1, "new": 1}, TRAIN) == {
        "atm": 0.25,
        "card": 0.5,
        "new": 0.25,
    }
    assert target_shares(None, TRAIN) == pytest.approx({"atm": 0.1, "card": 0.6, "refund": 0.3})
    assert target_shares("uniform", [None]) == {}


@pytest.mark.parametrize(
    ("target_mix", "match"),
    [
        ("balanced", "unknown target mix 'balanced'; expected 'uniform'"),
        ({"card": -1.0, "atm": 2.0}, r"finite and >= 0, got \{'card': -1.0\}"),
        ({"card": float("nan")}, "finite and >= 0"),
        ({"card": 0.0, "atm": 0}, "sum to 0 in .*'card': 0.0.*use 'uniform'"),
        ({}, "sum to 0"),
    ],
)
def test_target_shares_errors(target_mix: object, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        target_shares(target_mix, TRAIN)  # type: ignore[arg-type]


def test_total_variation() -> None:
    assert total_variation({"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}) == 0.0
    assert total_variation({"a": 1.0}, {"b": 1.0}) == 1.0
    assert total_variation({"a": 0.7, "b": 0.3}, {"a": 0.5, "c": 0.5}) == pytest.approx(0.5)
    p, q = {"a": 0.2, "b": 0.8}, {"a": 0.6, "b": 0.4}
    assert total_variation(p, q) == total_variation(q, p) == pytest.approx(0.4)


def test_filling_an_under_represented_group_lowers_drift() -> None:
    drift = mix_drift(TRAIN, ["atm"] * 50 + ["refund"] * 30, "uniform")
    assert drift.before == pytest.approx(0.6 - 1 / 3)
    assert drift.after == pytest.approx(0.0, abs=1e-12)  # 60 / 60 / 60
    assert drift.change < 0
    assert drift.change == pytest.approx(drift.after - drift.before)
    assert drift.most_grown is None
    assert drift.most_grown_delta == 0.0


def test_piling_onto_the_largest_group_raises_drift() -> None:
    drift = mix_drift(TRAIN, ["card"] * 50, "uniform")
    assert drift.after == pytest.approx(110 / 150 - 1 / 3)
    assert drift.change > 0
    assert drift.most_grown == "card"
    assert drift.most_grown_delta == pytest.approx(110 / 150 - 0.6)


def test_with_no_declared_mix_any_shift_from_train_is_drift() -> None:
    same = mix_drift(TRAIN, ["card"] * 6 + ["refund"] * 3 + ["atm"], None)
    assert same.before == 0.0
    assert same.after == pytest.approx(0.0, abs=1e-12)
    assert same.most_grown is None
    shifted = mix_drift(TRAIN, ["atm"] * 50, None)
    assert shifted.change == pytest.approx(60 / 150 - 0.1)
    assert shifted.most_grown == "atm"


def test_declared_mapping_and_groups_outside_it() -> None:
    target = {"card": 1.0, "refund": 1.0, "atm": 2.0}
    toward = mix_drift(TRAIN, ["atm"] * 60, target)
    assert toward.before == pytest.approx(0.4)
    assert toward.change < 0
    stray = mix_drift(TRAIN, ["other"] * 20, target)
    assert stray.change > 0
    assert stray.most_grown == "other"
    assert stray.most_grown_delta == pytest.approx(20 / 120)


def test_unlabelled_tasks_pass_cluster_ids_and_edge_cases() -> None:
    train = ["0", "0", "1", None]
    drift = mix_drift(train, ["1", None], "uniform")
    assert isinstance(drift, MixDrift)
    assert (drift.before, drift.after) == (pytest.approx(1 / 6), 0.0)
    assert drift.change == pytest.approx(-1 / 6)
    assert (drift.most_grown, drift.most_grown_delta) == (None, 0.0)
    unchanged = mix_drift(train, [], "uniform")
    assert unchanged.change == 0.0
    empty = mix_drift([None], ["a"], "uniform")
    assert math.isnan(empty.before)
    assert math.isnan(empty.after)
    assert math.isnan(empty.change)
    no_train = mix_drift([], ["a"], {"a": 1.0})
    assert math.isnan(no_train.before)
    assert no_train.after == 0.0
