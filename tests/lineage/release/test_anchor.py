"""The ledger head a release records: a deleted ledger or a cut tail is tampering, not a copy."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from factory.home import Home
from lineage import Ledger
from lineage.release.anchor import LEDGER_HEAD_NAME, check_release_anchors
from lineage.release.facts import ReleaseFacts
from lineage.release.manifest import MANIFEST_NAME
from lineage.release.publish import refusal_reasons
from lineage.release.signing import public_key_path
from lineage.release.verify import RELEASE_RECORD, ReleaseVerification, verify_release
from tests.fixtures.release import (
    RELEASE_VERSION,
    BuiltSample,
    card,
    report,
    synthetic,
    train_frame,
)


def _cut(ledger: Path, keep: int) -> None:
    """Keep the first `keep` records of `ledger` and delete its head file, as an attacker would."""
    lines = ledger.read_text(encoding="utf-8").splitlines(keepends=True)
    ledger.write_text("".join(lines[:keep]), encoding="utf-8")
    ledger.with_name(ledger.name + ".head").unlink()


def test_the_ledger_head_is_in_the_release_and_in_its_record(built_release: BuiltSample) -> None:
    release = built_release.release
    anchor = json.loads((release / LEDGER_HEAD_NAME).read_text(encoding="utf-8"))
    assert f"  {LEDGER_HEAD_NAME}" in (release / MANIFEST_NAME).read_text(encoding="utf-8")
    ledger = Ledger(built_release.home.ledger)
    (record,) = ledger.records(RELEASE_RECORD)
    assert record["body"]["ledger_head"] == {"seq": anchor["seq"], "hash": anchor["hash"]}
    assert record["seq"] == anchor["seq"] + 1
    assert ledger.records()[anchor["seq"] - 1]["hash"] == anchor["hash"]
    assert verify_release(release, built_release.public_key).ok
    report_md = (release / "report.md").read_text(encoding="utf-8")
    assert f"{LEDGER_HEAD_NAME} records where the project ledger stood" in report_md
    assert f"seq {anchor['seq']}, hash {anchor['hash']}" in report_md


def test_a_deleted_ledger_is_tampering(built_release: BuiltSample) -> None:
    ledger = built_release.home.ledger
    ledger.unlink()
    ledger.with_name(ledger.name + ".head").unlink()
    result = verify_release(built_release.release, built_release.public_key)
    assert not result.ok
    assert any(
        "was recorded in the project ledger" in p and "is missing" in p for p in result.problems
    ), result.problems
    reasons, _ = refusal_reasons(built_release.release, "org/x", dry_run=True)
    assert any("is missing" in r for r in reasons), reasons
    fresh = built_release.home.root / "elsewhere.jsonl"  # a new ledger cannot stand in for it
    reasons, _ = refusal_reasons(built_release.release, "org/x", dry_run=True, ledger=fresh)
    assert any("does not exist: pass the ledger it was recorded in" in r for r in reasons)


def test_a_tail_cut_with_its_head_is_tampering(built_release: BuiltSample) -> None:
    anchor = json.loads((built_release.release / LEDGER_HEAD_NAME).read_text(encoding="utf-8"))
    _cut(built_release.home.ledger, anchor["seq"])  # the release record and all after it
    assert Ledger(built_release.home.ledger).verify().ok  # the chain alone cannot tell
    result = verify_release(built_release.release, built_release.public_key)
    assert any("cut from its end" in p for p in result.problems), result.problems
    problems = check_release_anchors(built_release.home)
    assert any(built_release.release.name in p and "cut from its end" in p for p in problems)


def test_the_project_ledger_is_checked_against_every_release(built_release: BuiltSample) -> None:
    assert check_release_anchors(built_release.home) == []
    ledger = built_release.home.ledger
    anchor = json.loads((built_release.release / LEDGER_HEAD_NAME).read_text(encoding="utf-8"))
    _cut(ledger, anchor["seq"] - 1)  # before the head the release names
    problems = check_release_anchors(built_release.home)
    assert any(f"seq {anchor['seq']}" in p for p in problems), problems
    ledger.unlink()
    (problem,) = check_release_anchors(built_release.home)
    assert "is missing" in problem
    assert built_release.release.name in problem


def test_a_copy_out_of_its_project_notes_where_it_was_recorded(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    copy = tmp_path / "download" / built_release.release.name
    shutil.copytree(built_release.release, copy)
    anchor = json.loads((copy / LEDGER_HEAD_NAME).read_text(encoding="utf-8"))
    result = verify_release(copy, built_release.public_key)
    assert result.ok, result.problems
    assert any("lineage not checked" in n and f"seq {anchor['seq']}" in n for n in result.notes)
    assert verify_release(copy, built_release.public_key, built_release.home.ledger).ok


def test_readers_wait_for_a_release_being_built(
    tmp_path: Path, banking77_slice: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between writing `ledger-head.json` and appending the record, a release looks exactly like
    one whose record was cut: readers must wait for the build, not report tampering."""
    import lineage.release.build as build

    signing_now, resume = threading.Event(), threading.Event()
    real_sign = build.sign_release

    def slow_sign(folder: Path, key: Path) -> object:
        signing_now.set()
        resume.wait(timeout=30)
        return real_sign(folder, key)

    monkeypatch.setattr(build, "sign_release", slow_sign)
    home = Home(tmp_path / "home")
    signing, _ = build.signing_entry(home.signing_key)
    train = train_frame(banking77_slice)
    tables = {"synthetic": synthetic(train, 9), "train": train}
    facts = ReleaseFacts(RELEASE_VERSION, tables, card(), report(tmp_path, signing=signing))
    Ledger(home.ledger).append(
        "materialization",
        {"asset": "dataset_release", "outputs": {"dataset_release": {"data_version":
         RELEASE_VERSION}}},
    )  # fmt: skip
    builder = threading.Thread(target=build.build_release, args=(home, facts, home.signing_key))
    builder.start()
    assert signing_now.wait(timeout=60)
    release = home.release_dir(facts.folder)
    assert (release / LEDGER_HEAD_NAME).is_file()  # written, not yet recorded
    found: dict[str, object] = {}

    def read() -> None:
        found["anchors"] = check_release_anchors(home)
        found["verify"] = verify_release(release, public_key_path(home.signing_key))

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(timeout=0.5)
    assert reader.is_alive()  # waiting for the build
    resume.set()
    builder.join(timeout=60)
    reader.join(timeout=60)
    assert found["anchors"] == []
    result = found["verify"]
    assert isinstance(result, ReleaseVerification)
    assert result.ok, result.problems
