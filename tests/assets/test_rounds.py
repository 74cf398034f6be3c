"""Failure-loop rounds: partition keys, earlier rounds from storage, the previous failures."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.rounds import (
    add_round,
    evaluated_round,
    parse_round,
    previous_failures,
    release_row,
    round_key,
    rounds_through,
)
from factory.errors import ConfigError, FactoryError
from factory.home import Home
from factory.storage import write_table


def test_round_keys_count_from_one() -> None:
    assert round_key(1) == "1"
    assert parse_round("12") == 12
    with pytest.raises(ConfigError, match="count from 1"):
        round_key(0)
    for bad in ("0", "round-2", "-1", ""):
        with pytest.raises(ConfigError, match="not a round number"):
            parse_round(bad)


def test_add_round_is_idempotent() -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        assert add_round(instance, 2) == "2"
        assert add_round(instance, 2) == "2"
        assert instance.get_dynamic_partitions("round") == ["2"]


def test_rounds_through_reads_earlier_rounds_and_names_a_missing_one(tmp_path: Path) -> None:
    home = Home(tmp_path)
    write_table(home, "synthetic_samples", pl.DataFrame({"sample_id": ["a"]}), "1")
    assert (tmp_path / "tables" / "synthetic_samples" / "1.parquet").is_file()
    current = pl.DataFrame({"sample_id": ["b"]})
    both = rounds_through(home, "synthetic_samples", 2, current)
    assert both["sample_id"].to_list() == ["a", "b"]
    assert rounds_through(home, "synthetic_samples", 1, current).equals(current)
    with pytest.raises(
        FactoryError, match=r"round 3 needs synthetic_samples of round 2.*--round 2"
    ):
        rounds_through(home, "synthetic_samples", 3, current)


def test_previous_failures_are_the_students_validation_verdicts(tmp_path: Path) -> None:
    evaluation = pl.DataFrame(
        {
            "model": ["student", "student", "student", "base", "student"],
            "split": ["validation", "validation", "test", "validation", "validation"],
            "doc_id": ["v1", "v2", "t1", "v1", "v3"],
            "correct": [False, True, False, False, None],
        }
    )
    write_table(Home(tmp_path), "student_evaluation", evaluation, "1")
    failures = previous_failures(Home(tmp_path), 2)
    assert failures.to_dicts() == [
        {"doc_id": "v1", "correct": False},
        {"doc_id": "v2", "correct": True},
    ]
    with pytest.raises(FactoryError, match="student_evaluation of round 2"):
        previous_failures(Home(tmp_path), 3)


def test_evaluated_round_is_the_latest_stored_or_the_one_asked_for(tmp_path: Path) -> None:
    home = Home(tmp_path)
    with pytest.raises(FactoryError, match=r"nothing to release under .*run `factory run` first"):
        evaluated_round(home)
    evaluation = pl.DataFrame({"model": ["student"], "correct": [True]})
    for number in (1, 2, 10):
        write_table(home, "student_evaluation", evaluation, str(number))
    assert evaluated_round(home) == 10  # by number, not by name ("10" < "2")
    assert evaluated_round(home, 2) == 2
    with pytest.raises(FactoryError, match=r"round 3 has no .*--round 3` first"):
        evaluated_round(home, 3)


def test_release_row_reads_a_rounds_release_or_none(tmp_path: Path) -> None:
    home = Home(tmp_path)
    assert release_row(home, 1) is None
    row = {"release_path": "/r/v1", "report_path": "/r/v1/report.html", "synthetic_rows": 3}
    write_table(home, "dataset_release", pl.DataFrame([row]), "1")
    assert release_row(home, 1) == row
