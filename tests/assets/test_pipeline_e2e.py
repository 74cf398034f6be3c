"""The whole graph, end to end, with the real models on small slices (one run per corpus).

Each corpus is materialized once per test session through `dg.materialize` on a persistent
instance; the tests below read what that run wrote. The stdlib corpus runs the embedded teacher
(llama.cpp behind the pool) with correction rounds. banking77 reaches a llama.cpp server as an
API teacher, with secrets planted in its environment and URL that no artifact may hold, and also
runs a second failure-loop round on the same instance.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import yaml

from factory.home import Home
from lineage import Ledger
from tests.fixtures.cli import factory_cli
from tests.fixtures.pipeline import SMALL_RUN, PipelineRun, materialize, materialize_selected

PLANTED = {
    "HF_TOKEN": "hf_PlantedFakeToken4f9c2e7a1b3d5f6e8a0c2e4b6d8f0a1c",
    "FACTORY_PLANTED_KEY": "sk-planted-7d3e9a1c5b2f4e6a8c0d2f4b6e8a0c1d",
}
PLANTED_IN_URL = ("Pl4ntedUrlPassw0rd5e1f", "Pl4ntedQueryKey3c8b9d")
"""A `user:password@` and an `?api_key=` in the teacher's base_url: only factory.yaml holds them."""


@pytest.fixture(scope="session")
def planted_teacher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """banking77's teacher: a llama.cpp server on 127.0.0.1 reached as an API (backend
    `openai`), with a real API key sent from the environment and a password and a query key in
    its URL; its logs live outside the run's folder."""
    from factory.models import smollm2_gguf_path
    from factory.serving import LlamaServer

    logs = tmp_path_factory.mktemp("planted-server-logs")
    with LlamaServer(smollm2_gguf_path(), log_dir=logs, n_threads=2) as server:
        password, query_key = PLANTED_IN_URL
        base_url = server.base_url.replace("://", f"://planted:{password}@")
        yield {"backend": "openai", "base_url": f"{base_url}?api_key={query_key}",
               "model": "smollm2", "api_key_env": "FACTORY_PLANTED_KEY",
               "max_tokens": 40}  # fmt: skip


@contextmanager
def _planted_environment() -> Iterator[None]:
    """An HF token and the teacher's API key in the environment, as a user's shell has them."""
    with pytest.MonkeyPatch.context() as env:
        for name, value in PLANTED.items():
            env.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def banking_run(
    tmp_path_factory: pytest.TempPathFactory,
    banking77_dir: Path,
    planted_teacher: dict[str, object],
) -> PipelineRun:
    """banking77 through the planted teacher (see `test_a_planted_token_appears_in_no_artifact_
    log_or_metadata`); its correction rounds are left to the stdlib run."""
    root = tmp_path_factory.mktemp("e2e-banking77")
    lines = (banking77_dir / "train.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    rows = [lines[0], *lines[1::25]]  # every 25th row: ~400 rows over all 77 intents
    (root / "train.csv").write_text("".join(rows), encoding="utf-8")
    source = {
        "id": "banking77",
        "kind": "csv",
        "path": "train.csv",
        "fields": {"category": "label"},
        "license": "CC-BY-4.0",
    }
    synthesis = {**SMALL_RUN["synthesis"], "correction_rounds": 0}  # type: ignore[dict-item]
    config = {"home": "home", "task": {"kind": "classification"}, "sources": [source],
              **SMALL_RUN, "teacher": planted_teacher, "synthesis": synthesis}  # fmt: skip
    with _planted_environment():
        return materialize(root, config)


@pytest.fixture(scope="session")
def banking_round2(banking_run: PipelineRun) -> PipelineRun:
    """Round 2 on banking77: gaps from round 1's validation failures, adversarial samples."""
    with _planted_environment():
        return materialize(banking_run.home.parent, banking_run.config, round_number=2)


RUNS = ["stdlib_run", "banking_run"]


@pytest.fixture(params=RUNS)
def run(request: pytest.FixtureRequest) -> PipelineRun:
    return request.getfixturevalue(request.param)


def test_every_layer_materialized_with_counts(run: PipelineRun) -> None:
    keys = {e.asset_key.to_user_string() for e in run.result.get_asset_materialization_events()}
    assert keys == {
        "corpus_documents", "corpus_quarantine", "document_embeddings", "semantic_map",
        "clusters", "coverage_gaps", "synthesis_plan", "synthetic_samples", "synthetic_rejects",
        "student_checkpoint", "student_evaluation", "dataset_release",
    }  # fmt: skip
    docs = run.table("corpus_documents")
    assert run.table("semantic_map").height == docs.height
    gaps = run.table("coverage_gaps")
    assert 1 <= gaps.height <= 5
    assert int(gaps["budget"].sum()) == 5
    samples, rejects = run.table("synthetic_samples"), run.table("synthetic_rejects")
    assert samples.height + rejects.height == 5 == run.table("synthesis_plan").height
    assert samples.height >= 1


def test_synthetic_rows_have_parents_in_train_and_full_provenance(run: PipelineRun) -> None:
    docs = run.table("corpus_documents")
    train_ids = set(docs.filter(pl.col("split") == "train")["doc_id"])
    samples = run.table("synthetic_samples")
    gaps = set(run.table("coverage_gaps")["gap_id"])
    for row in samples.iter_rows(named=True):
        assert row["parent_doc_ids"], row["sample_id"]
        assert set(row["parent_doc_ids"]) <= train_ids
        assert row["gap_id"] in gaps
        assert row["method"] in {"interpolate", "perturb"}
        assert re.fullmatch(r"[0-9a-f]{64}", row["prompt_template_hash"])
        assert row["teacher_fingerprint"]
        assert -1.0 <= row["achieved_cosine"] <= 1.0
        assert json.loads(row["sampling_params"])["max_tokens"] == 40


def test_task_schema_is_kept(banking_run: PipelineRun) -> None:
    samples = banking_run.table("synthetic_samples")
    labels = set(banking_run.table("corpus_documents")["label"])
    assert samples["label"].null_count() == 0
    assert set(samples["label"]) <= labels


def test_every_quality_check_recorded_and_no_blocking_failure(run: PipelineRun) -> None:
    from checks.specs import SPECS

    evaluations = run.result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == set(SPECS)
    for evaluation in evaluations:
        assert "observed" in evaluation.metadata
        assert "threshold" in evaluation.metadata
        assert "derivation" in evaluation.metadata
        if evaluation.metadata["blocking"].value:
            assert evaluation.passed, evaluation.description
    records = Ledger(run.home / "provenance" / "ledger.jsonl").records("quality_check")
    assert len(records) == 1
    assert {c["name"] for c in records[0]["body"]["checks"]} == set(SPECS)


def test_student_trained_and_perplexity_reported(run: PipelineRun) -> None:
    student = run.table("student_checkpoint").row(0, named=True)
    assert student["steps"] == 3
    assert (student["backend"], student["round"]) == ("llm", 1)
    assert student["perplexity_before"] > 1.0
    assert student["perplexity_after"] > 1.0
    assert Path(student["checkpoint_path"]).is_dir()
    assert student["synthetic_rows"] == run.table("synthetic_samples").height


def test_report_names_the_real_counts(run: PipelineRun) -> None:
    release = run.table("dataset_release").row(0, named=True)
    report = Path(release["report_path"]).read_text(encoding="utf-8")
    docs = run.table("corpus_documents").height
    samples = run.table("synthetic_samples").height
    assert f"{docs:,}" in report or str(docs) in report
    assert str(samples) in report
    folder = Path(release["release_path"])
    released = pl.read_parquet(folder / "data" / "synthetic.parquet")
    assert released.height == samples
    assert (folder / "README.md").read_text(encoding="utf-8").startswith("---")


def test_lineage_recorded_for_every_materialization(run: PipelineRun) -> None:
    ledger = Ledger(run.home / "provenance" / "ledger.jsonl")
    assert ledger.verify().ok
    assets = [r["body"]["asset"] for r in ledger.records("materialization")]
    assert len(assets) == 9
    assert "synthetic_samples" in assets
    assert "dataset_release" in assets
    lines = (run.home / "provenance" / "openlineage.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    kinds = [e["eventType"] for e in events]
    assert kinds.count("START") == kinds.count("COMPLETE") == 9


def test_rerunning_synthesis_makes_no_teacher_call(stdlib_run: PipelineRun) -> None:
    """Unchanged inputs reuse the stored result; without it, every answer is a cache hit."""
    import shutil

    before = stdlib_run.table("synthetic_samples")

    def rerun() -> dict[str, object]:
        again = materialize_selected(
            stdlib_run.home.parent, ["synthetic_samples", "synthetic_rejects"]
        )
        (event,) = [
            e
            for e in again.get_asset_materialization_events()
            if e.asset_key == dg.AssetKey("synthetic_samples")
        ]
        return {k: v.value for k, v in event.materialization.metadata.items()}

    reused = rerun()
    assert reused["reused"] is True
    assert (reused["teacher_calls"], reused["cache_hits"]) == (0, 0)
    assert stdlib_run.table("synthetic_samples")["sample_id"].equals(before["sample_id"])
    shutil.rmtree(stdlib_run.home / "cache" / "synthesis")
    realized = rerun()
    assert realized["reused"] is False
    assert realized["teacher_calls"] == 0
    assert realized["cache_hits"] > 0  # type: ignore[operator]
    assert stdlib_run.table("synthetic_samples")["sample_id"].equals(before["sample_id"])


def test_student_evaluated_on_validation_and_test_with_its_base(run: PipelineRun) -> None:
    evaluation = run.table("student_evaluation")
    per_split = run.config["student"]["eval_documents"]  # type: ignore[index]
    for model in ("student", "base"):
        for split in ("validation", "test"):
            part = evaluation.filter((pl.col("model") == model) & (pl.col("split") == split))
            assert 1 <= part.height <= per_split, (model, split)
    docs = run.table("corpus_documents")
    split_of = dict(zip(docs["doc_id"], docs["split"], strict=True))
    pairs = zip(evaluation["doc_id"], evaluation["split"], strict=True)
    assert all(split_of[doc] == split for doc, split in pairs)
    if run.config.get("task", {}).get("kind") == "classification":  # type: ignore[union-attr]
        labels = set(docs.filter(pl.col("split") == "train")["label"])
        assert evaluation["correct"].null_count() == 0
        assert set(evaluation["prediction"]) <= labels  # constrained to the label set
        assert evaluation["correct"].to_list() == [
            p == r for p, r in zip(evaluation["prediction"], evaluation["reference"], strict=True)
        ]
    else:
        assert evaluation["correct"].null_count() == evaluation.height
        assert (evaluation["nll"] > 0).all()


def test_round_two_answers_round_one_failures_with_adversarial_rows(
    banking_round2: PipelineRun,
) -> None:
    run = banking_round2
    keys = {e.asset_key.to_user_string() for e in run.result.get_asset_materialization_events()}
    assert keys == {
        "coverage_gaps", "synthesis_plan", "synthetic_samples", "synthetic_rejects",
        "student_checkpoint", "student_evaluation", "dataset_release",
    }  # fmt: skip
    first = run.table("student_evaluation", 1)
    failed = set(
        first.filter(
            (pl.col("model") == "student") & (pl.col("split") == "validation") & ~pl.col("correct")
        )["doc_id"]
    )
    assert failed, "round 1's student failed nothing; the loop has nothing to answer"
    gaps = run.table("coverage_gaps", 2)
    assert gaps.height >= 1
    assert set(gaps["kind"]) == {"student_failure"}
    samples = run.table("synthetic_samples", 2)
    assert samples.height >= 1
    assert set(samples["method"]) == {"adversarial"}
    assert set(samples["round"]) == {2}
    for row in samples.iter_rows(named=True):
        assert row["failure_doc_ids"], row["sample_id"]
        assert set(row["failure_doc_ids"]) <= failed
    round_one = run.table("synthetic_samples", 1)
    student = run.table("student_checkpoint", 2).row(0, named=True)
    assert student["round"] == 2
    assert student["synthetic_rows"] == len(set(round_one["sample_id"]) | set(samples["sample_id"]))
    ledger = Ledger(run.home / "provenance" / "ledger.jsonl")
    assert ledger.verify().ok
    gap_records = [
        r["body"]
        for r in ledger.records("materialization")
        if r["body"]["asset"] == "coverage_gaps"
    ]
    assert [r["params"]["round"] for r in gap_records] == [1, 2]
    round_one_evaluation = [
        r["body"]["outputs"]["student_evaluation"]["data_version"]
        for r in ledger.records("materialization")
        if r["body"]["asset"] == "student_evaluation" and r["body"]["params"]["round"] == 1
    ]
    assert gap_records[1]["inputs"]["student_evaluation[round 1]"] == round_one_evaluation[-1]
    assert "student_evaluation[round 1]" not in gap_records[0]["inputs"]


def test_classifier_backend_trains_and_evaluates_a_head_on_the_same_tables(
    banking_run: PipelineRun, tmp_path: Path
) -> None:
    import shutil

    home = tmp_path / "home"
    for folder in ("tables", "lancedb"):
        shutil.copytree(banking_run.home / folder, home / folder)
    config = {**banking_run.config, "student": {"backend": "classifier", "eval_documents": 8}}
    (tmp_path / "factory.yaml").write_text(yaml.safe_dump(config))
    result = materialize_selected(tmp_path, ["student_checkpoint", "student_evaluation"])
    head = PipelineRun(result, home, config)
    checkpoint = head.table("student_checkpoint").row(0, named=True)
    assert checkpoint["backend"] == "classifier"
    assert checkpoint["perplexity_before"] is None
    assert checkpoint["synthetic_rows"] == banking_run.table("synthetic_samples").height
    assert Path(checkpoint["checkpoint_path"]).is_dir()
    evaluation = head.table("student_evaluation")
    labels = set(banking_run.table("corpus_documents").filter(pl.col("split") == "train")["label"])
    for model in ("student", "base"):
        part = evaluation.filter(pl.col("model") == model)
        assert set(part["split"]) == {"validation", "test"}
        assert part.height == 16
        assert set(part["prediction"]) <= labels
        assert part["correct"].to_list() == [
            p == r for p, r in zip(part["prediction"], part["reference"], strict=True)
        ]
    # a head on MiniLM vectors beats chance (1/77) on held-out banking77 by a wide margin
    assert evaluation.filter(pl.col("model") == "base")["correct"].mean() > 0.2


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`factory *args` in `root`, with `--config root/factory.yaml` when that file exists."""
    config = root / "factory.yaml"
    extra = ["--config", str(config)] if config.is_file() else []
    return factory_cli(*args, *extra, cwd=root, timeout=300)


def test_every_synthetic_row_traces_to_its_train_parents_source_and_gate(
    banking_round2: PipelineRun,
) -> None:
    from lineage.trace import read_lineage_tables, trace_sample

    run = banking_round2
    tables = read_lineage_tables(Home(run.home))
    records = Ledger(run.home / "provenance" / "ledger.jsonl").records()
    samples = pl.concat([run.table("synthetic_samples", 1), run.table("synthetic_samples", 2)])
    assert tables.samples.height == samples.height
    gaps = pl.concat([run.table("coverage_gaps", 1), run.table("coverage_gaps", 2)])
    kind_of = dict(zip(gaps["gap_id"], gaps["kind"], strict=True))
    for row in samples.iter_rows(named=True):
        trace = trace_sample(tables, records, row["sample_id"])
        assert [p["doc_id"] for p in trace["parents"]] == row["parent_doc_ids"]
        for parent in trace["parents"]:
            assert parent["split"] == "train"
            assert (parent["source_id"], parent["license"]) == ("banking77", "CC-BY-4.0")
            assert re.fullmatch(r"train\.csv#L\d+", parent["source_uri"]), parent["source_uri"]
        assert trace["gap"]["kind"] == kind_of[row["gap_id"]]
        gate = trace["quality_gate"]
        assert gate is not None, row["sample_id"]
        judged = gate["checks_passed"] + gate["checks_failed"] + gate["checks_not_applicable"]
        assert len(judged) == 18
        assert "contamination" in gate["checks_passed"]  # blocking: the round reached a student
        failures = [d["doc_id"] for d in trace["answers_failures"]]
        assert failures == list(row["failure_doc_ids"] or [])
        assert all(d["split"] == "validation" for d in trace["answers_failures"])

    adversarial = samples.filter(pl.col("method") == "adversarial").row(0, named=True)
    answer = json.loads(_cli(run.home.parent, "lineage", "trace", adversarial["sample_id"][:16],
                             "--json", "-").stdout)  # fmt: skip
    assert answer["sample_id"] == adversarial["sample_id"]
    assert answer["round"] == 2


def test_impact_of_a_document_and_of_a_source(banking_round2: PipelineRun) -> None:
    from lineage.trace import impact, read_lineage_tables

    run = banking_round2
    tables = read_lineage_tables(Home(run.home))
    first = run.table("synthetic_samples", 1).row(0, named=True)
    parent = first["parent_doc_ids"][0]
    found = impact(tables, parent)
    assert found["kind"] == "document"
    assert first["sample_id"] in found["synthetic_samples"]
    assert all(parent in tables.samples.filter(pl.col("sample_id") == s)["parent_doc_ids"][0]
               for s in found["synthetic_samples"])  # fmt: skip
    assert sorted(c["round"] for c in found["checkpoints"]) == [1, 2]  # a train row: every round
    assert len(found["releases"]) == 2
    whole = impact(tables, "banking77")
    assert whole["kind"] == "source"
    assert set(whole["synthetic_samples"]) == set(tables.samples["sample_id"])
    done = _cli(run.home.parent, "lineage", "impact", "no-such-source")
    assert done.returncode == 1
    assert "neither a doc_id nor a source_id" in done.stderr


def test_lineage_verify_names_an_edited_record(banking_round2: PipelineRun, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(banking_round2.home / "provenance", root / "home" / "provenance")
    (root / "factory.yaml").write_text(yaml.safe_dump(banking_round2.config))
    intact = _cli(root, "lineage", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "ledger intact" in intact.stdout
    ledger = root / "home" / "provenance" / "ledger.jsonl"
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[2])
    record["body"]["code_version"] = "edited"
    lines[2] = json.dumps(record) + "\n"
    ledger.write_text("".join(lines), encoding="utf-8")
    tampered = _cli(root, "lineage", "verify")
    assert tampered.returncode == 1
    assert "seq 3" in tampered.stderr


def test_factory_verify_passes_a_real_release_and_names_a_changed_file(
    banking_run: PipelineRun, tmp_path: Path
) -> None:
    import shutil

    release = Path(banking_run.table("dataset_release")["release_path"][0])
    copy = tmp_path / "release"
    shutil.copytree(release, copy)
    public = banking_run.home / "keys" / "release-signing.pub"
    unauthenticated = _cli(tmp_path, "verify", str(copy))  # intact, but no key trusted
    assert unauthenticated.returncode == 3, unauthenticated.stderr
    intact = _cli(tmp_path, "verify", str(copy), "--public-key", str(public))
    assert intact.returncode == 0, intact.stderr
    assert "release intact" in intact.stdout
    card = copy / "README.md"
    card.write_text(card.read_text(encoding="utf-8").replace("synthetic", "synthetlc", 1))
    tampered = _cli(tmp_path, "verify", str(copy), "--public-key", str(public))
    assert tampered.returncode == 1
    assert "README.md: content changed" in tampered.stderr


def test_synthetic_samples_carry_column_lineage_to_the_plan_and_corpus(
    banking_run: PipelineRun,
) -> None:
    from factory.schemas import SYNTHETIC_SAMPLES

    (event,) = [
        e
        for e in banking_run.result.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("synthetic_samples")
    ]
    lineage = event.materialization.metadata["dagster/column_lineage"].value
    columns = {c.name for c in SYNTHETIC_SAMPLES.columns}
    assert set(lineage.deps_by_column) <= columns
    text_sources = {
        (d.asset_key.to_user_string(), d.column_name) for d in lineage.deps_by_column["text"]
    }
    assert ("corpus_documents", "text") in text_sources
    assert ("synthesis_plan", "parent_doc_ids") in text_sources


def test_release_is_signed_recorded_and_verifies_with_both_clis(banking_run: PipelineRun) -> None:
    from lineage.release.verify import manifest_digest

    release = Path(banking_run.table("dataset_release")["release_path"][0])
    key = banking_run.home / "keys" / "release-signing.pem"
    public = key.with_name("release-signing.pub")
    assert (release / "signature.sig").is_file()
    assert (release / "signing-key.pub").read_bytes() == public.read_bytes()
    private = key.read_bytes()
    assert all(
        private not in p.read_bytes()
        for p in banking_run.home.rglob("*")
        if p.is_file() and p != key
    )
    done = _cli(release.parent, "verify", str(release), "--public-key", str(public))
    assert done.returncode == 0, done.stderr
    assert "signature verifies" in done.stdout
    assert "recorded in" in done.stdout
    model_signing = Path(sys.executable).with_name("model_signing")
    cli = [str(model_signing), "verify", "key", str(release)]
    checked = subprocess.run(
        [*cli, "--signature", str(release / "signature.sig"), "--public_key", str(public)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (record,) = [
        r["body"]
        for r in Ledger(banking_run.home / "provenance" / "ledger.jsonl").records("release")
        if r["body"]["version"] == release.name
    ]
    assert record["manifest_sha256"] == manifest_digest(release)
    assert record["dagster_run_id"] == banking_run.result.run_id
    facts = json.loads((release / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["signing"]["public_key_fingerprint"] == record["public_key_fingerprint"]
    png = release.with_name(f"{release.name}.report.png")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert png.stat().st_size > 20_000


def test_release_exclude_rebuilds_without_a_document_and_records_it(
    banking_round2: PipelineRun, tmp_path: Path
) -> None:
    import shutil

    from lineage.trace import impact, read_lineage_tables

    root = tmp_path
    shutil.copytree(banking_round2.home, root / "home", ignore=shutil.ignore_patterns("dagster"))
    (root / "factory.yaml").write_text(yaml.safe_dump(banking_round2.config))
    home = root / "home"
    before = Path(banking_round2.table("dataset_release", 2)["release_path"][0])
    parent = banking_round2.table("synthetic_samples", 1)["parent_doc_ids"][0][0]
    found = impact(read_lineage_tables(Home(home)), parent)
    assert found["synthetic_samples"]
    reason = "takedown request 12 from the document's author"
    done = _cli(root, "release", "--exclude", parent, "--reason", reason, "--round", "2")
    assert done.returncode == 0, done.stderr
    row = pl.read_parquet(home / "tables" / "dataset_release" / "2.parquet").row(0, named=True)
    release = Path(row["release_path"])
    assert release.parent == home / "releases"
    assert release.name != before.name
    train = pl.read_parquet(release / "data" / "train.parquet")
    synthetic = pl.read_parquet(release / "data" / "synthetic.parquet")
    old_synthetic = pl.read_parquet(before / "data" / "synthetic.parquet")
    assert parent not in set(train["doc_id"])
    assert train.height == pl.read_parquet(before / "data" / "train.parquet").height - 1
    assert not set(found["synthetic_samples"]) & set(synthetic["sample_id"])
    assert synthetic.height == old_synthetic.height - len(
        set(found["synthetic_samples"]) & set(old_synthetic["sample_id"])
    )
    entry = {"query": parent, "kind": "document", "documents": 1,
             "synthetic_samples": len(found["synthetic_samples"]), "reason": reason}  # fmt: skip
    facts = json.loads((release / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["exclusions"] == [entry]
    assert parent in (release / "report.md").read_text(encoding="utf-8")
    records = Ledger(home / "provenance" / "ledger.jsonl").records("release")
    assert records[-1]["body"]["version"] == release.name
    assert records[-1]["body"]["exclusions"] == [entry]
    public = home / "keys" / "release-signing.pub"
    verified = _cli(release.parent, "verify", str(release), "--public-key", str(public))
    assert verified.returncode == 0, verified.stderr


def test_a_planted_token_appears_in_no_artifact_log_or_metadata(
    banking_run: PipelineRun, banking_round2: PipelineRun
) -> None:
    """banking77's two rounds ran with an HF token in the environment, a teacher API key they
    really sent (to a llama.cpp server on 127.0.0.1) and a password and a query key in the
    teacher's base_url: none reaches a file (but the config itself), the event log or metadata."""
    root = banking_run.home.parent
    assert banking_round2.table("synthetic_samples").height > 0
    assert (banking_run.home / "provenance" / "ledger.jsonl").is_file()
    files = [p for p in root.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in files)  # the Dagster event log is scanned too
    recorded = [p for p in files if p != root / "factory.yaml"]
    for value in [*PLANTED.values(), *PLANTED_IN_URL]:
        secret = value.encode()
        assert [p for p in recorded if secret in p.read_bytes()] == []
        for run in (banking_run, banking_round2):
            for event in run.result.all_events:
                assert value not in repr(event)
