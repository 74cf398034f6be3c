"""Forward and backward lineage over small hand-made round tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lineage import Ledger, LineageError
from lineage.trace import impact, read_lineage_tables, trace_sample


def _sample(sample_id: str, parents: list[str], round_number: int, **extra: object) -> dict:
    return {
        "sample_id": sample_id, "text": f"text of {sample_id}", "label": "card", "answer": None,
        "gap_id": f"gap-{round_number}", "target_id": "t", "method": "interpolate",
        "parent_doc_ids": parents, "target_cosine": 0.8, "achieved_cosine": 0.85,
        "teacher_fingerprint": "sha256:teacher", "prompt_template_hash": "p" * 64,
        "sampling_params": "{}", "seed": 7, "curriculum_stage": 0, "round": round_number,
        "failure_doc_ids": [], "run_id": f"run-{round_number}", **extra,
    }  # fmt: skip


@pytest.fixture
def home(tmp_path: Path) -> Path:
    tables = tmp_path / "tables"
    for name in ("synthetic_samples", "coverage_gaps", "student_checkpoint"):
        (tables / name).mkdir(parents=True)
    pl.DataFrame(
        {
            "doc_id": ["d1", "d2", "v1"],
            "split": ["train", "train", "validation"],
            "source_id": ["bank", "other", "bank"],
            "source_uri": ["a.csv#L2", "b.csv#L2", "a.csv#L3"],
            "license": ["CC-BY-4.0", "unknown", "CC-BY-4.0"],
            "label": ["card", "card", "card"],
        }
    ).write_parquet(tables / "corpus_documents.parquet")
    pl.DataFrame([_sample("s1aaa", ["d1"], 1), _sample("s1abb", ["d2"], 1)]).write_parquet(
        tables / "synthetic_samples" / "1.parquet"
    )
    adversarial = _sample("s2ccc", ["d2"], 2, method="adversarial", failure_doc_ids=["v1"])
    pl.DataFrame([adversarial]).write_parquet(tables / "synthetic_samples" / "2.parquet")
    for k in (1, 2):
        pl.DataFrame(
            {
                "gap_id": [f"gap-{k}"],
                "kind": ["sparse" if k == 1 else "student_failure"],
                "rank": [1],
                "rationale": ["thin"],
            }
        ).write_parquet(tables / "coverage_gaps" / f"{k}.parquet")
        pl.DataFrame(
            {"round": [k], "checkpoint_hash": [f"h{k}"], "checkpoint_path": [f"/s/{k}"]}
        ).write_parquet(tables / "student_checkpoint" / f"{k}.parquet")
    ledger = Ledger(tmp_path / "ledger.jsonl")
    checks = [{"name": "privacy", "status": "passed"}, {"name": "spread", "status": "failed"}]
    ledger.append(
        "quality_check",
        {"dagster_run_id": "run-2", "round": "2", "passed": False, "checks": checks},
    )
    return tmp_path


def test_trace_names_parents_gap_failures_and_the_gate_of_its_round(home: Path) -> None:
    tables = read_lineage_tables(home)
    records = Ledger(home / "ledger.jsonl").records()
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


def test_trace_refuses_an_unknown_or_ambiguous_id(home: Path) -> None:
    tables = read_lineage_tables(home)
    with pytest.raises(LineageError, match="2 start with it"):
        trace_sample(tables, [], "s1a")
    with pytest.raises(LineageError, match="no synthetic row has sample_id 'zzz'"):
        trace_sample(tables, [], "zzz")


def test_impact_follows_parents_failures_and_rounds(home: Path) -> None:
    tables = read_lineage_tables(home)
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
        read_lineage_tables(tmp_path)
