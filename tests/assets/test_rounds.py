"""Failure-loop rounds: partition keys, earlier rounds from storage, the previous failures."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.rounds import add_round, parse_round, previous_failures, round_key, rounds_through
from factory.errors import ConfigError, FactoryError
from factory.storage import table_path, write_table


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
    write_table(tmp_path, "synthetic_samples", pl.DataFrame({"sample_id": ["a"]}), "1")
    assert table_path(tmp_path, "synthetic_samples", "1").is_file()
    current = pl.DataFrame({"sample_id": ["b"]})
    both = rounds_through(tmp_path, "synthetic_samples", 2, current)
    assert both["sample_id"].to_list() == ["a", "b"]
    assert rounds_through(tmp_path, "synthetic_samples", 1, current).equals(current)
    with pytest.raises(
        FactoryError, match=r"round 3 needs synthetic_samples of round 2.*--round 2"
    ):
        rounds_through(tmp_path, "synthetic_samples", 3, current)


def test_previous_failures_are_the_students_validation_verdicts(tmp_path: Path) -> None:
    evaluation = pl.DataFrame(
        {
            "model": ["student", "student", "student", "base", "student"],
            "split": ["validation", "validation", "test", "validation", "validation"],
            "doc_id": ["v1", "v2", "t1", "v1", "v3"],
            "correct": [False, True, False, False, None],
        }
    )
    write_table(tmp_path, "student_evaluation", evaluation, "1")
    failures = previous_failures(tmp_path, 2)
    assert failures.to_dicts() == [
        {"doc_id": "v1", "correct": False},
        {"doc_id": "v2", "correct": True},
    ]
    with pytest.raises(FactoryError, match="student_evaluation of round 2"):
        previous_failures(tmp_path, 3)
