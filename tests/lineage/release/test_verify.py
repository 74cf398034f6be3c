"""`verify_release`: manifest, signature and ledger, each tampering named; a moved release."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from lineage import Ledger
from lineage.release.signing import SIGNATURE_NAME, init_keys, sign_release
from lineage.release.verify import RELEASE_RECORD, manifest_digest, verify_release
from tests.fixtures.release import RUN, train_frame, write_sample_release

RELEASE_VERSION = "3f2a9c1d0b7e" + "0" * 52


@pytest.fixture
def signed(tmp_path: Path, banking77_slice: Path) -> tuple[Path, Path]:
    """A real release at tmp/home/releases/<v>, signed, with its ledger records; and the key."""
    release = write_sample_release(tmp_path, train_frame(banking77_slice))
    keys = init_keys(tmp_path / "keys" / "release-signing.pem")
    sign_release(release, keys.private_key)
    ledger = Ledger(tmp_path / "home" / "provenance" / "ledger.jsonl")
    ledger.append(
        RELEASE_RECORD,
        {"version": release.name, "path": str(release), "dagster_run_id": RUN,
         "manifest_sha256": manifest_digest(release), "public_key_fingerprint": keys.fingerprint,
         "exclusions": []},
    )  # fmt: skip
    ledger.append(
        "materialization",
        {"asset": "dataset_release", "dagster_run_id": RUN, "code_version": "release-v3",
         "outputs": {"dataset_release": {"data_version": RELEASE_VERSION, "rows": 1}},
         "inputs": {}, "params": {}, "models": {}},
    )  # fmt: skip
    return release, keys.public_key


def _flip(path: Path) -> bytes:
    original = path.read_bytes()
    middle = len(original) // 2
    path.write_bytes(original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1 :])
    return original


def test_a_signed_recorded_release_verifies(signed: tuple[Path, Path]) -> None:
    release, public_key = signed
    result = verify_release(release, public_key)
    assert result.ok, result.problems
    assert result.ledger == release.parent.parent / "provenance" / "ledger.jsonl"
    assert result.signed_by is not None
    assert len(result.signed_by) == 64
    assert result.files == len((release / "MANIFEST.sha256").read_text().splitlines())
    assert result.notes == []


def test_one_changed_byte_in_any_release_file_or_the_ledger_fails(
    signed: tuple[Path, Path],
) -> None:
    release, public_key = signed
    files = sorted(p for p in release.rglob("*") if p.is_file())
    kinds = {p.suffix for p in files}
    assert {".parquet", ".md", ".html", ".json", ".svg", ".sha256", ".sig", ".pub"} <= kinds
    for path in files:
        original = _flip(path)
        result = verify_release(release, public_key)
        assert not result.ok, path.name
        if path.name not in ("MANIFEST.sha256", SIGNATURE_NAME):
            assert any(path.relative_to(release).as_posix() in p for p in result.problems), (
                path.name,
                result.problems,
            )
        path.write_bytes(original)
    ledger = release.parent.parent / "provenance" / "ledger.jsonl"
    lines = ledger.read_bytes().splitlines(keepends=True)
    versioned = [i for i, line in enumerate(lines) if b'"code_version"' in line]
    for index in (versioned[0], versioned[len(versioned) // 2], versioned[-1]):
        changed = list(lines)
        line = changed[index]
        at = line.index(b'"code_version"') + len('"code_version": "') + 1
        changed[index] = line[:at] + bytes([line[at] ^ 1]) + line[at + 1 :]
        ledger.write_bytes(b"".join(changed))
        result = verify_release(release, public_key)
        assert not result.ok, index
        assert any(f"seq {index + 1}" in p for p in result.problems), result.problems
    ledger.write_bytes(b"".join(lines))
    assert verify_release(release, public_key).ok


def test_a_consistently_rewritten_folder_fails_on_signature_and_ledger(
    signed: tuple[Path, Path],
) -> None:
    from lineage.release.manifest import write_manifest

    release, public_key = signed
    train = release / "data" / "train.parquet"
    pl.read_parquet(train).head(10).write_parquet(train)
    write_manifest(release)  # an attacker refreshes the manifest: it verifies again
    problems = verify_release(release, public_key).problems
    assert any(SIGNATURE_NAME in p and "data/train.parquet" in p for p in problems), problems
    assert any("the folder changed after it was recorded" in p for p in problems), problems


def test_another_key_or_no_signature_fails(signed: tuple[Path, Path], tmp_path: Path) -> None:
    release, _ = signed
    other = init_keys(tmp_path / "other" / "key.pem")
    assert not verify_release(release, other.public_key).ok
    (release / SIGNATURE_NAME).unlink()
    (problem,) = verify_release(release).problems
    assert problem.startswith(f"{SIGNATURE_NAME} is missing: the release is not signed")
    assert "the signature was removed" in problem
    assert verify_release(release, signature="recorded").problems == [problem]
    stripped = verify_release(release, signature="optional")
    assert stripped.ok
    assert stripped.notes[0].startswith("signature not checked")
    assert "allowed" in stripped.notes[0]


def test_a_swapped_key_is_caught_by_the_ledger(signed: tuple[Path, Path], tmp_path: Path) -> None:
    release, _ = signed
    other = init_keys(tmp_path / "other" / "key.pem")
    sign_release(release, other.private_key)  # re-signed by someone else, carrying their key
    result = verify_release(release)
    assert any(
        "the folder changed after it was recorded" in p or "ledger recorded key" in p
        for p in result.problems
    ), result.problems


def test_a_release_moved_out_of_its_project_verifies_with_a_note(
    signed: tuple[Path, Path], tmp_path: Path
) -> None:
    release, public_key = signed
    moved = tmp_path / "elsewhere" / release.name
    shutil.copytree(release, moved)
    result = verify_release(moved, public_key)
    assert result.ok
    assert result.ledger is None
    assert any("lineage not checked" in n for n in result.notes)
    ledger = release.parent.parent / "provenance" / "ledger.jsonl"
    assert verify_release(moved, public_key, ledger).ok
    absent = verify_release(moved, public_key, tmp_path / "none.jsonl")
    assert "does not exist" in absent.problems[0]


def test_a_layer_missing_from_the_ledger_is_named(signed: tuple[Path, Path]) -> None:
    release, public_key = signed
    ledger = release.parent.parent / "provenance" / "ledger.jsonl"
    kept = [
        line
        for line in ledger.read_text(encoding="utf-8").splitlines(keepends=True)
        if '"asset":"dataset_release"' not in line.replace(" ", "")
    ]
    fresh = ledger.with_name("rebuilt.jsonl")
    rebuilt = Ledger(fresh)
    for line in kept:
        record = json.loads(line)
        rebuilt.append(record["kind"], record["body"])
    problems = verify_release(release, public_key, fresh).problems
    assert problems == [
        f"report layer dataset_release at data version {RELEASE_VERSION} has no materialization "
        "record in the ledger"
    ]


def test_a_missing_folder_is_one_problem(tmp_path: Path) -> None:
    result = verify_release(tmp_path / "absent")
    assert result.problems == [f"release folder {str(tmp_path / 'absent')!r} does not exist"]
