"""The `factory` command line, run as a user runs it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from factory.hashing import content_hash
from tests.fixtures.cli import factory_cli
from tests.fixtures.paths import REPO
from tests.fixtures.pipeline import PipelineRun
from tests.fixtures.release import BuiltSample


def test_run_then_status_through_the_persistent_instance(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "proj", "ingest": {"max_documents": 30}}))
    layers = ["corpus_documents", "corpus_quarantine", "document_embeddings"]
    run = factory_cli(
        "run", "--config", str(config), *[f"--select={k}" for k in layers], cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "materialized" in run.stdout
    assert (tmp_path / "proj" / "dagster" / "dagster.yaml").read_text().count("enabled: false") == 2
    status = factory_cli("status", "--config", str(config), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    line = next(x for x in status.stdout.splitlines() if "corpus_documents" in x)
    assert " 30 " in line
    assert "never" not in next(x for x in status.stdout.splitlines() if "document_embeddings" in x)
    assert "never" in next(x for x in status.stdout.splitlines() if "synthetic_samples" in x)


def test_dry_run_plans_synthesis_without_calling_the_teacher(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    small = {
        "home": "proj",
        "ingest": {"max_documents": 100},
        "map": {"n_neighbors": 10},
        "gaps": {"max_gaps": 4, "total_budget": 6},
        "synthesis": {"max_run_tokens": 1000},
    }
    config.write_text(yaml.safe_dump(small))
    result = factory_cli("run", "--config", str(config), "--dry-run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    out = " ".join(result.stdout.split())
    assert "dry run: nothing was sent to the teacher" in out
    targets = int(re.search(r"(\d+) targets", out).group(1))  # type: ignore[union-attr]
    assert 1 <= targets <= 6
    assert f"teacher calls: {3 * targets} in the first round, 0 of them already cached" in out
    assert "(teacher tokenizer)" in out
    assert "may stop at the cap of 1,000 tokens" in out
    tables = tmp_path / "proj" / "tables"
    assert (tables / "synthesis_plan" / "1.parquet").is_file()
    assert not (tables / "synthetic_samples").exists()
    assert not (tmp_path / "proj" / "cache" / "teacher-responses.sqlite").exists()
    assert not (tmp_path / "proj" / "logs").exists() or not list(
        (tmp_path / "proj" / "logs").glob("llama-server-*.log")
    )


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text("embedding:\n  modle: x\n")
    result = factory_cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith(
        "error: invalid config: unknown key 'modle' in embedding"
    )


def test_a_failing_step_is_reported_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(
        yaml.safe_dump(
            {"home": "proj", "sources": [{"id": "x", "kind": "csv", "path": "missing.csv"}]}
        )
    )
    result = factory_cli("run", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "missing.csv" in result.stderr
    assert "does not exist" in result.stderr


def test_ui_serves_the_definitions_on_loopback(tmp_path: Path) -> None:
    import socket
    import time
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "proj"}))
    env = {k: v for k, v in os.environ.items() if k not in {"DAGSTER_HOME", "FACTORY_CONFIG"}}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assets.cli", "ui", "--config", str(config), "--port", str(port)],
        cwd=tmp_path,
        env=env | {"PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        body = ""
        while time.monotonic() < deadline and not body:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    body = r.read().decode()
            except OSError:
                time.sleep(1)
        assert "dagster_webserver_version" in body
        assert (tmp_path / "proj" / "dagster" / "dagster.yaml").exists()
    finally:
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_probes_from_the_real_teacher_feed_coverage_gaps(
    tmp_path: Path, stdlib_run: PipelineRun
) -> None:
    """Let SmolLM2 enumerate the domain of the stdlib run's map (a copy), then find gaps
    against its probes."""
    config = tmp_path / "factory.yaml"
    settings = {**stdlib_run.config, "home": "proj"}
    config.write_text(yaml.safe_dump(settings))
    early = factory_cli("probes", "--config", str(config), "--out", "p.jsonl", cwd=tmp_path)
    assert early.returncode == 1
    assert "run `factory run` first" in early.stderr
    assert "Traceback" not in early.stderr
    for folder in ("shards", "tables", "lancedb"):
        shutil.copytree(stdlib_run.home / folder, tmp_path / "proj" / folder)

    probes = factory_cli(
        "probes", "--config", str(config), "--out", "probes.jsonl", "--per-cluster", "1",
        cwd=tmp_path,
    )  # fmt: skip
    assert probes.returncode == 0, probes.stderr[-3000:]
    rows = [yaml.safe_load(line) for line in (tmp_path / "probes.jsonl").read_text().splitlines()]
    assert rows, probes.stdout
    assert all(len(r["text"]) >= 12 and r["teacher"] for r in rows)
    assert f"{len(rows)} probes" in probes.stdout

    settings["gaps"] = {
        "reference": "source",
        "reference_source": {"id": "probes", "kind": "jsonl", "path": "probes.jsonl"},
        "min_support": 1,
    }
    config.write_text(yaml.safe_dump(settings))
    gaps = factory_cli("run", "--config", str(config), "--select=coverage_gaps", cwd=tmp_path)
    assert gaps.returncode == 0, gaps.stderr[-3000:]
    table = pl.read_parquet(tmp_path / "proj" / "tables" / "coverage_gaps" / "1.parquet")
    assert table.height >= 1
    probe_ids = {r for row in table["evidence_doc_ids"].to_list() for r in row}
    assert probe_ids <= {content_hash(r["text"]) for r in rows}


def test_keys_init_creates_a_private_key_once_and_force_replaces_it(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "proj"}))
    made = factory_cli("keys", "init", "--config", str(config), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    key = tmp_path / "proj" / "keys" / "release-signing.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.with_name("release-signing.pub").is_file()
    assert "SHA-256" in made.stdout
    again = factory_cli("keys", "init", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 1
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr
    old = key.read_bytes()
    forced = factory_cli("keys", "init", "--config", str(config), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert key.read_bytes() != old


def test_release_and_verify_say_what_is_missing(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "proj"}))
    (tmp_path / "proj").mkdir()
    nothing = factory_cli("release", "--config", str(config), cwd=tmp_path)
    assert nothing.returncode == 1
    assert "nothing to release" in nothing.stderr
    assert "factory run" in nothing.stderr
    absent = factory_cli("verify", str(tmp_path / "no-such-release"), cwd=tmp_path)
    assert absent.returncode == 1
    assert "does not exist" in absent.stderr


def test_verify_authenticates_the_publisher_only_with_a_trusted_key(
    built_release: BuiltSample, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.delenv("FACTORY_TRUSTED_KEYS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no trusted-keys file yet
    copy = tmp_path / "download" / built_release.release.name
    shutil.copytree(built_release.release, copy)
    alone = factory_cli("verify", str(copy), cwd=tmp_path)
    assert alone.returncode == 3, alone.stdout + alone.stderr
    no_key = factory_cli(
        "verify", str(copy), "--public-key", str(tmp_path / "no.pub"), cwd=tmp_path
    )
    assert no_key.returncode == 1, no_key.stdout + no_key.stderr
    assert "no.pub' does not exist" in no_key.stderr  # a wrong path, named as such
    assert "tampered" not in no_key.stderr
    assert "integrity only, publisher not authenticated" in alone.stderr
    carried = factory_cli("verify", str(copy), "--trust-embedded-key", cwd=tmp_path)
    assert carried.returncode == 0, carried.stderr
    assert "release intact" in carried.stdout
    assert "carried key, not trusted" in carried.stdout
    pub = str(built_release.public_key)
    trusted = factory_cli("keys", "trust", pub, cwd=tmp_path)
    assert trusted.returncode == 0, trusted.stderr
    keys_file = tmp_path / "config" / "factory" / "trusted-keys"
    assert built_release.fingerprint in keys_file.read_text(encoding="utf-8")
    listed = factory_cli("verify", str(copy), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert f"trusted: line 1 of {keys_file}" in listed.stdout
    (copy / "README.md").write_text("# forged card\n", encoding="utf-8")
    tampered = factory_cli("verify", str(copy), "--public-key", pub, cwd=tmp_path)
    assert tampered.returncode == 1
    assert "tampered" in tampered.stderr
    assert "README.md: content changed" in tampered.stderr


def test_lineage_verify_names_an_incomplete_write_and_repair_fixes_it(tmp_path: Path) -> None:
    from lineage import Ledger

    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "proj"}))
    ledger = Ledger(tmp_path / "proj" / "provenance" / "ledger.jsonl")
    ledger.append("run", {"run_id": "a"})
    with ledger.path.open("ab") as fh:
        fh.write(b'{"format_version": 1, "seq": 2, "pr')  # a crash mid-append
    torn = factory_cli("lineage", "verify", "--config", str(config), cwd=tmp_path)
    assert torn.returncode == 1
    assert "incomplete write" in torn.stderr
    assert "tampered" not in torn.stderr
    assert "factory lineage repair" in torn.stderr
    repaired = factory_cli("lineage", "repair", "--config", str(config), cwd=tmp_path)
    assert repaired.returncode == 0, repaired.stderr
    assert "repaired" in repaired.stdout
    assert "recorded as seq 2 (kind repair)" in repaired.stdout
    intact = factory_cli("lineage", "verify", "--config", str(config), cwd=tmp_path)
    assert intact.returncode == 0, intact.stderr
    assert "ledger intact: 2 records" in intact.stdout


def test_lineage_verify_notices_a_tail_cut_with_its_head(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "home"}))
    ledger = built_release.home.ledger
    seq = built_release.record["ledger_head"]["seq"]
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger.write_text("".join(lines[:seq]), encoding="utf-8")  # the release record and after
    ledger.with_name(ledger.name + ".head").unlink()
    cut = factory_cli("lineage", "verify", "--config", str(config), cwd=tmp_path)
    assert cut.returncode == 1, cut.stdout
    assert f"release {built_release.release.name}" in cut.stderr
    assert "cut from its end" in cut.stderr
