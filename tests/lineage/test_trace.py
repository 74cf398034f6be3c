"""Forward and backward lineage over small hand-made round tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.home import Home
from lineage import Ledger, LineageError
from lineage.trace import impact, read_lineage_tables, trace_sample


def test_trace_names_parents_gap_failures_and_the_gate_of_its_round(lineage_home: Path) -> None:
    tables = read_lineage_tables(Home(lineage_home))
    records = Ledger(lineage_home / "ledger.jsonl").records()
    trace = trace_sample(tables, records, "s2c")  # a unique prefix is enough
    assert trace["sample_id"] == "s2ccc"
    assert trace["parents"] == [
        {
            "doc_id": "d2",
            "split": "train",
            "source_id": "other",
            "source_uri": "b.csv#L2",
            "license": "unknown",
            "label": "card",
        }
    ]
    assert [d["doc_id"] for d in trace["answers_failures"]] == ["v1"]
    assert trace["gap"]["kind"] == "student_failure"
    assert trace["quality_gate"]["checks_failed"] == ["spread"]
    assert trace_sample(tables, records, "s1aaa")["quality_gate"] is None  # never judged


def test_trace_refuses_an_unknown_or_ambiguous_id(lineage_home: Path) -> None:
    tables = read_lineage_tables(Home(lineage_home))
    with pytest.raises(LineageError, match="2 start with it"):
        trace_sample(tables, [], "s1a")
    with pytest.raises(LineageError, match="no synthetic row has sample_id 'zzz'"):
        trace_sample(tables, [], "zzz")


def test_impact_follows_parents_failures_and_rounds(lineage_home: Path) -> None:
    tables = read_lineage_tables(Home(lineage_home))
    validation = impact(tables, "v1")  # a validation failure feeds round 2 only
    assert validation["synthetic_samples"] == ["s2ccc"]
    assert [c["round"] for c in validation["checkpoints"]] == [2]
    source = impact(tables, "bank")
    assert source["kind"] == "source"
    assert source["documents"] == ["d1", "v1"]
    assert source["synthetic_samples"] == ["s1aaa", "s2ccc"]
    assert [c["round"] for c in source["checkpoints"]] == [1, 2]  # d1 is a train row
    with pytest.raises(LineageError, match="sources: bank, other"):
        impact(tables, "nope")


def test_no_tables_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LineageError, match="run the pipeline first"):
        read_lineage_tables(Home(tmp_path))
