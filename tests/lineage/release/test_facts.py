"""Release facts from hand-made pipeline tables, and `build_release` writing, signing, recording."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.config import FactoryConfig
from factory.home import Home
from lineage import Ledger
from lineage.release.build import build_release, signing_entry
from lineage.release.facts import (
    PiiScanner,
    ReleaseRun,
    ReleaseTables,
    build_release_facts,
    release_version,
)
from lineage.release.verify import RELEASE_RECORD, manifest_digest, verify_release

RUN = "0d1c2b3a-0000-4000-8000-000000000002"
GAP = {
    "gap_id": ["g1"], "rank": [1], "kind": ["sparse_region"], "score": [0.9], "budget": [3],
    "rationale": ["few freeze questions"], "cluster_id": [0],
}  # fmt: skip
SOURCE = {"id": "bank", "kind": "csv", "path": "bank.csv", "license": "CC-BY-4.0"}


def _corpus() -> pl.DataFrame:
    splits = ["train"] * 6 + ["validation", "test"]
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    return pl.DataFrame(
        {
            "doc_id": [f"d{i}" for i in range(8)],
            "text": [f"how do I freeze card {i}?" for i in range(8)],
            "label": ["freeze", "top_up"] * 4,
            "answer": [None] * 8,
            "split": splits,
            "source_id": ["bank"] * 8,
            "source_uri": [f"bank.csv#L{i + 2}" for i in range(8)],
            "license": ["CC-BY-4.0"] * 8,
            "ingested_at": [now] * 8,
        },
        schema_overrides={"answer": pl.String},
    )


def _samples(texts: list[str]) -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame(
        {
            "sample_id": [f"s{i}" for i in range(n)],
            "text": texts,
            "label": ["freeze"] * n,
            "answer": [None] * n,
            "gap_id": ["g1"] * n,
            "method": ["interpolate"] * n,
            "teacher_fingerprint": ["teacher-fp"] * n,
            "parent_doc_ids": [["d0", "d1"]] * n,
        },
        schema_overrides={"answer": pl.String},
    )


def _tables(texts: list[str] | None = None) -> ReleaseTables:
    corpus = _corpus()
    evaluation = pl.DataFrame(
        {
            "model": ["student", "base"],
            "split": ["test", "test"],
            "doc_id": ["d7", "d7"],
            "task_kind": ["classification"] * 2,
            "reference": ["top_up"] * 2,
            "prediction": ["top_up", "freeze"],
            "correct": [True, False],
            "nll": [None, None],
            "tokens": [None, None],
        },
        schema_overrides={"nll": pl.Float64, "tokens": pl.Int64},
    )
    checkpoint = {
        "checkpoint_path": "/s/1", "checkpoint_hash": "c" * 64, "backend": "classifier",
        "round": 1, "base_model_fingerprint": "e" * 16, "training_data_version": "t" * 16,
        "hyperparameters": "{}", "train_rows": 6, "synthetic_rows": 2, "steps": 40,
        "perplexity_before": None, "perplexity_after": None,
    }  # fmt: skip
    return ReleaseTables(
        corpus=corpus,
        quarantine=pl.DataFrame({"reason": ["empty"]}),
        clusters=pl.DataFrame({"cluster_id": [0, 1]}),
        semantic_map=pl.DataFrame({"cluster_id": [0, 0, 1, 1, 1, -1, 0, 1]}),
        gaps=pl.DataFrame(GAP),
        samples=_samples(texts or ["freeze my card abroad", "can I freeze it now"]),
        rejects=pl.DataFrame({"reason": ["off_target: cosine 0.2", "pii: email"]}),
        checkpoint=pl.DataFrame(
            [checkpoint],
            schema_overrides={"perplexity_before": pl.Float64, "perplexity_after": pl.Float64},
        ),
        evaluation=evaluation,
    )


def _check(name: str, applicable: bool = True) -> dict[str, Any]:
    return {
        "name": name, "family": "coherence", "passed": True, "observed": 0.9,
        "threshold": 0.5, "blocking": True, "applicable": applicable, "bound": "min",
        "description": f"{name} check", "status": "passed" if applicable else "not applicable",
    }  # fmt: skip


def _run(scanned: list[list[str | None]], **changes: Any) -> ReleaseRun:
    def count(texts: list[str | None]) -> tuple[int, dict[str, int]]:
        scanned.append(list(texts))
        hits = sum("@" in (t or "") for t in texts)
        return hits, {"email": hits}

    run = ReleaseRun(
        run_id=RUN,
        input_versions={"synthetic_samples": "v1"},
        embedder_fingerprint="e" * 16,
        checks=[_check("label_agreement"), _check("mix_drift", applicable=False)],
        scanner=PiiScanner("test scanner", "names are not detected", count),
        filters=["empty", "pii"],
        created_at="2026-11-24T10:00:00+00:00",
    )
    return replace(run, **changes)


def _config(tmp_path: Path, **extra: Any) -> FactoryConfig:
    data = {"task": {"kind": "classification"}, "sources": [SOURCE], "home": "home", **extra}
    return FactoryConfig.from_dict(data, base_dir=tmp_path)


def test_facts_state_what_the_tables_hold(tmp_path: Path) -> None:
    config = _config(tmp_path)
    scanned: list[list[str | None]] = []
    facts = build_release_facts(config, Home.of(config), _tables(), _run(scanned), [])
    report = facts.report
    assert facts.folder == facts.version[:12]
    assert facts.tables["train"]["doc_id"].to_list() == [f"d{i}" for i in range(6)]
    assert (report.documents, report.clusters, report.samples_accepted) == (8, 2, 2)
    assert report.noise_share == pytest.approx(1 / 8)
    assert report.reject_reasons == {"off_target": 1, "pii": 1}
    assert report.gaps[0]["accepted"] == 2
    assert report.teacher == {
        "name": config.teacher.model, "fingerprint": "teacher-fp", "license": "apache-2.0",
        "endpoint": "127.0.0.1 (llama.cpp server started by the factory)",
    }  # fmt: skip
    assert report.student is not None
    assert report.student["metric"] == "test accuracy (train-only head → student)"
    assert (report.student["before"], report.student["after"]) == (0.0, 1.0)
    assert [c["observed"] for c in report.checks] == [0.9, "not applicable"]
    assert report.layers == []  # nothing in the ledger: no layer is claimed
    assert report.filters == ["empty", "pii"]
    assert report.collection_period == ["2026-11-20T09:00:00+00:00"] * 2
    assert facts.card.license == "cc-by-4.0"
    # every released row was scanned, the train rows and the synthetic rows
    assert [len(texts) for texts in scanned] == [6, 2]
    privacy = report.privacy
    assert privacy is not None
    assert privacy["filtered_rows"] == 1
    assert privacy["sent_off_machine"] == []
    assert "names are not detected" in privacy["not_scanned"]


def test_the_version_hashes_content_not_time(tmp_path: Path) -> None:
    tables = _tables()
    config = _config(tmp_path)
    home = Home.of(config)
    first = build_release_facts(config, home, tables, _run([]), [])
    later = build_release_facts(config, home, tables, _run([], created_at="2027-01-01"), [])
    assert first.version == later.version == release_version(tables, [])
    edited = _tables(["freeze my card abroad", "can I freeze it today"])
    assert release_version(edited, []) != first.version
    assert release_version(tables, ["d3"]) != first.version


def test_what_left_the_machine_is_stated(tmp_path: Path) -> None:
    remote = {
        "teacher": {"backend": "openai", "base_url": "https://api.example.com/v1",
                    "model": "gpt", "allow_remote": True, "license": "openai-terms"},
        "embedding": {"backend": "openai", "base_url": "http://[::ffff:127.0.0.1]:8080/v1",
                      "model": "e5"},
    }  # fmt: skip
    config = _config(tmp_path, **remote)
    report = build_release_facts(config, Home.of(config), _tables(), _run([]), []).report
    assert report.privacy is not None
    assert report.privacy["sent_off_machine"] == [
        "the train rows shown as parents, to the teacher at https://api.example.com/v1"
    ]  # the embedder sits on an IPv4-mapped loopback address: nothing left through it
    assert report.teacher is not None
    assert report.teacher["license"] == "openai-terms"


def test_build_release_writes_signs_and_records(tmp_path: Path) -> None:
    config = _config(tmp_path)
    home = Home.of(config)
    signing, created = signing_entry(home.signing_key)
    assert created is not None
    assert signing_entry(home.signing_key)[1] is None  # the second time it is reused
    facts = build_release_facts(config, home, _tables(), _run([], signing=signing), [])
    built = build_release(home, facts, home.signing_key)
    assert built.info.path == home.release_dir(facts.folder)
    (record,) = Ledger(home.ledger).records(RELEASE_RECORD)
    assert record["body"] == built.record
    assert record["body"]["manifest_sha256"] == manifest_digest(built.info.path)
    assert record["body"]["public_key_fingerprint"] == signing["public_key_fingerprint"]
    assert built.files == len(list(p for p in built.info.path.rglob("*") if p.is_file()))
    verified = verify_release(built.info.path, public_key=created.public_key)
    assert verified.ok, verified.problems


def test_an_unrecorded_release_leaves_the_ledger_alone(tmp_path: Path) -> None:
    config = _config(tmp_path)
    home = Home.of(config)
    facts = build_release_facts(config, home, _tables(), _run([]), [])
    built = build_release(home, facts, None, record=False)
    assert not built.recorded
    assert built.record["public_key_fingerprint"] is None
    assert not home.ledger.exists()
