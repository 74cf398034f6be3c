"""Publishing a release to a (local) Hub: refusals, dry runs, the round trip and the ledger."""

from __future__ import annotations

import json
import logging
import os
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from huggingface_hub import HfApi, snapshot_download
from huggingface_hub.errors import RepositoryNotFoundError

from factory.hashing import content_hash
from lineage import Ledger
from lineage.release import CardInfo, ReportInfo, write_release
from lineage.release.manifest import write_manifest
from lineage.release.publish import (
    TAG_PREFIX,
    PublishError,
    PublishRefusedError,
    publish_release,
    refusal_reasons,
)
from lineage.release.signing import init_keys, sign_release
from lineage.release.verify import RELEASE_RECORD, manifest_digest, release_ledger_path
from tests.fixtures.hub import HUB_TOKEN
from tests.fixtures.hub_server import HubServer
from tests.fixtures.paths import run_python
from tests.fixtures.release import BuiltSample

PLANTED = HUB_TOKEN  # the write token planted in HF_TOKEN: it must land in no file, log or record
VERSION = "3f2a9c1d0b7e"


def _png(path: Path) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + bytes(range(12)) for _ in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def _tables() -> dict[str, pl.DataFrame]:
    texts = ["How do I freeze my card?", "My top up failed", "Where is my new card?"]
    train = pl.DataFrame(
        {
            "doc_id": [content_hash(t) for t in texts],
            "text": texts,
            "label": ["freeze", "top_up", "card_arrival"],
            "split": ["train"] * 3,
            "source_id": ["banking"] * 3,
            "license": ["CC-BY-4.0"] * 3,
        }
    )
    made = ["Can I freeze my card abroad?", "Why did my top up bounce?"]
    synthetic = pl.DataFrame(
        {
            "sample_id": [content_hash(t) for t in made],
            "text": made,
            "label": ["freeze", "top_up"],
            "gap_id": ["a" * 64, "b" * 64],
            "method": ["interpolate", "perturb"],
            "parent_doc_ids": [train["doc_id"].to_list()[:2], train["doc_id"].to_list()[1:]],
            "achieved_cosine": [0.61, 0.58],
            "seed": [0, 1],
        }
    )
    return {"synthetic": synthetic, "train": train}


def _report(tmp_path: Path) -> ReportInfo:
    return ReportInfo(
        run_id="0d1c2b3a-0000-4000-8000-000000000001",
        created_at="2026-11-24T10:00:00+00:00",
        task_kind="classification",
        documents=3,
        clusters=2,
        noise_share=0.0,
        sources=[
            {"name": "banking", "uri": "file:///b.csv", "license": "CC-BY-4.0", "rows": 3},
        ],
        gaps=[{"gap_id": "a" * 64, "kind": "sparse_region", "score": 0.9, "budget": 2}],
        samples_accepted=2,
        samples_rejected=0,
        checks=[
            {
                "name": "label_agreement",
                "family": "quality",
                "passed": True,
                "observed": 0.9,
                "threshold": 0.8,
            },
            {
                "name": "near_duplicates",
                "family": "diversity",
                "passed": False,
                "observed": 0.06,
                "threshold": 0.05,
            },
        ],
        map_png=_png(tmp_path / "map-source.png"),
    )


def _edit_facts(publishable: Path, change: Any, *, manifest: bool = True) -> None:
    """Change report.json with `change(facts)`, then rewrite the manifest and record the
    release in the project ledger as `dataset_release` does (so it still verifies), unless
    `manifest` is False."""
    path = publishable / "report.json"
    facts = json.loads(path.read_text(encoding="utf-8"))
    change(facts)
    path.write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if manifest:
        write_manifest(publishable)
        Ledger(publishable.parent.parent / "provenance" / "ledger.jsonl").append(
            RELEASE_RECORD,
            {"version": publishable.name, "path": str(publishable),
             "manifest_sha256": manifest_digest(publishable),
             "dagster_run_id": "0d1c2b3a-0000-4000-8000-000000000001",
             "public_key_fingerprint": None, "exclusions": []},
        )  # fmt: skip


def _set_checks(facts: dict[str, Any], blocking_failed: bool) -> None:
    checks = facts["report"]["checks"]
    checks[0]["blocking"] = True  # passed
    checks[1]["blocking"] = blocking_failed  # failed: refused only when blocking


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def publishable(home: Path, tmp_path: Path) -> Path:
    """A real release at HOME/releases/<version>: commercial license, declared commercial use,
    one blocking check that passed and one non-blocking check that failed."""
    out = home / "releases" / VERSION
    card = CardInfo(
        pretty_name="Banking gap fill",
        license="cc-by-4.0",
        language=["en"],
        task_categories=["text-classification"],
        license_class="commercial",
    )
    write_release(out, _tables(), card, _report(tmp_path))

    def change(facts: dict[str, Any]) -> None:
        facts["card"]["declared_use"] = "commercial"
        _set_checks(facts, blocking_failed=False)

    _edit_facts(out, change)
    return out


@pytest.fixture(autouse=True)
def _write_token(hub_client: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """huggingface_hub pointed at a local Hub, and the planted token in HF_TOKEN."""
    monkeypatch.setenv("HF_TOKEN", PLANTED)


def _server_repos(hub: HubServer) -> list[Path]:
    return sorted(hub.root.glob("*/*/*/repo.json"))


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _every_file_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def _refusal(
    hub: HubServer, publishable: Path, repo_id: str = "org/banking-gaps", **options: Any
) -> PublishRefusedError:
    """How `publish_release` refuses `release`, once it is checked that nothing reached `hub`."""
    with pytest.raises(PublishRefusedError) as refused:
        publish_release(publishable, repo_id, endpoint=hub.url, **options)
    assert "nothing uploaded" in str(refused.value)
    assert _server_repos(hub) == []
    return refused.value


@pytest.mark.parametrize("private", [True, False])
def test_publish_round_trips_every_byte_tags_the_commit_and_records_it(
    hub: HubServer, publishable: Path, home: Path, tmp_path: Path, private: bool
) -> None:
    before = _files(publishable)
    result = publish_release(publishable, "org/banking-gaps", private=private, endpoint=hub.url)

    assert result.tag == TAG_PREFIX + VERSION == result.revision
    assert result.commit_sha is not None
    assert len(result.commit_sha) == 40
    assert (result.private, result.dry_run, result.use) == (private, False, "commercial")
    assert result.url == f"{hub.url}/datasets/org/banking-gaps"
    assert _files(publishable) == before  # the signed folder is never edited

    got = snapshot_download(
        "org/banking-gaps",
        repo_type="dataset",
        revision=result.tag,
        endpoint=hub.url,
        token=PLANTED,
        cache_dir=tmp_path / "download",
    )
    assert _files(Path(got)) == before
    assert Path(got).name == result.commit_sha

    api = HfApi(endpoint=hub.url, token=PLANTED)
    refs = api.list_repo_refs("org/banking-gaps", repo_type="dataset")
    tags = {t.name: t.target_commit for t in refs.tags}
    assert tags == {result.tag: result.commit_sha}
    assert api.repo_info("org/banking-gaps", repo_type="dataset").private is private
    anonymous = HfApi(endpoint=hub.url, token=False)
    if private:
        with pytest.raises(RepositoryNotFoundError):
            anonymous.repo_info("org/banking-gaps", repo_type="dataset")
    else:
        assert anonymous.repo_info("org/banking-gaps", repo_type="dataset").private is False

    ledger = Ledger(home / "provenance" / "ledger.jsonl")
    assert ledger.verify().ok
    (record,) = ledger.records("publication")
    body = record["body"]
    assert body["commit_sha"] == result.commit_sha == tags[result.tag]
    assert (body["tag"], body["private"], body["repo_id"]) == (result.tag, private, result.repo_id)
    assert (body["endpoint"], body["release"], body["use"]) == (hub.url, VERSION, "commercial")
    manifest = dict(
        reversed(line.split("  ", 1))
        for line in (publishable / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines()
    )
    recorded = {f["path"]: f["sha256"] for f in body["files"]}
    assert set(recorded) == set(before)
    assert all(recorded[name] == digest for name, digest in manifest.items())


def test_the_planted_token_lands_in_no_file_log_or_record(
    hub: HubServer,
    hub_log: list[str],
    publishable: Path,
    home: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    result = publish_release(publishable, "org/banking-gaps", private=True, endpoint=hub.url)
    with pytest.raises(PublishRefusedError, match="already published"):
        publish_release(publishable, "org/banking-gaps", private=True, endpoint=hub.url)
    assert PLANTED not in repr(result)
    captured = capsys.readouterr()
    texts = [caplog.text, captured.out, captured.err, "\n".join(hub_log)]
    assert hub_log  # the server did log every request line
    assert not [t for t in texts if PLANTED in t]
    stored = _every_file_under(publishable, home / "provenance", hub.root)
    assert len(stored) > 10
    assert [p for p in stored if PLANTED.encode() in p.read_bytes()] == []


def _fail_a_blocking_check(publishable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _edit_facts(publishable, lambda facts: _set_checks(facts, blocking_failed=True))


def _edit_after_signing(publishable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = publishable / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nedited later\n", encoding="utf-8")


def _blank_the_token(publishable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "  ")


def _hold_the_token(publishable: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = publishable / "report.md"
    notes.write_text(notes.read_text(encoding="utf-8") + f"\n{PLANTED}\n", encoding="utf-8")
    _edit_facts(publishable, lambda facts: None)  # written (and recorded) that way


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        pytest.param(
            _fail_a_blocking_check,
            "blocking check 'near_duplicates' (diversity) failed: observed 0.06, threshold 0.05; "
            "fix the data and write a new release",
            id="blocking-check-failed",
        ),
        pytest.param(
            _edit_after_signing,
            "the release does not verify: README.md: content changed (SHA-256 differs from the "
            "manifest)",
            id="does-not-verify",
        ),
        pytest.param(
            _blank_the_token,
            "HF_TOKEN is not set: export a Hugging Face write token as HF_TOKEN (it is read from "
            "the environment only, never from a flag or a file)",
            id="no-token",
        ),
        pytest.param(
            _hold_the_token,
            "release file report.md contains the value of HF_TOKEN: the token must never be "
            "published; rotate it and write a new release",
            id="release-holds-the-token",
        ),
    ],
)
def test_a_refusal_names_its_one_reason_and_nothing_reaches_the_hub_or_the_ledger(
    hub: HubServer,
    publishable: Path,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    spoil: Callable[[Path, pytest.MonkeyPatch], None],
    reason: str,
) -> None:
    spoil(publishable, monkeypatch)
    refusal = _refusal(hub, publishable)
    assert refusal.reasons == [reason]
    assert PLANTED not in str(refusal)
    assert Ledger(home / "provenance" / "ledger.jsonl").records("publication") == []


def test_a_failed_check_without_a_blocking_flag_does_not_block(
    hub: HubServer, publishable: Path
) -> None:
    def drop_flags(facts: dict[str, Any]) -> None:
        for check in facts["report"]["checks"]:
            check.pop("blocking")  # older releases: missing means not blocking

    _edit_facts(publishable, drop_flags)
    assert publish_release(publishable, "org/banking-gaps", endpoint=hub.url).commit_sha


def test_a_license_class_that_forbids_the_use_is_refused(hub: HubServer, publishable: Path) -> None:
    _edit_facts(publishable, lambda facts: facts["card"].update(license_class="non-commercial"))
    for options in ({}, {"use": "commercial"}):
        refusal = _refusal(hub, publishable, **options)
        assert "'non-commercial' forbids 'commercial' use" in str(refusal)
    plan = publish_release(publishable, "org/banking-gaps", use="academic", dry_run=True)
    assert plan.use == "academic"


def test_an_unknown_or_free_text_license_class_is_refused(
    hub: HubServer, publishable: Path
) -> None:
    _edit_facts(publishable, lambda facts: facts["card"].update(license_class="CC-BY 4.0, I think"))
    assert "license class 'CC-BY 4.0, I think' is unknown" in str(_refusal(hub, publishable))


def test_every_reason_is_collected_at_once(
    hub: HubServer, publishable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def break_everything(facts: dict[str, Any]) -> None:
        _set_checks(facts, blocking_failed=True)
        facts["card"]["license_class"] = "academic-only"

    _edit_facts(publishable, break_everything, manifest=False)
    monkeypatch.delenv("HF_TOKEN")
    text = "\n".join(_refusal(hub, publishable, "not a repo id").reasons)
    for expected in (
        "repo id 'not a repo id' is not ORG/NAME",
        "does not verify: report.json: content changed",
        "blocking check 'near_duplicates'",
        "'academic-only' forbids 'commercial' use",
        "HF_TOKEN is not set",
    ):
        assert expected in text


def test_a_dry_run_checks_and_plans_without_any_network_call(
    publishable: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    before = _files(publishable)
    plan = publish_release(
        publishable, "org/banking-gaps", private=True, dry_run=True, endpoint="http://127.0.0.1:9"
    )  # port 9 (discard): nothing listens there, so any call would fail
    assert (plan.dry_run, plan.commit_sha, plan.private) == (True, None, True)
    assert plan.tag == f"v-{VERSION}"
    assert {f.path for f in plan.files} == set(before)
    assert plan.total_bytes == sum(len(b) for b in before.values())
    assert plan.ledger == home / "provenance" / "ledger.jsonl"
    assert Ledger(home / "provenance" / "ledger.jsonl").records("publication") == []
    assert _files(publishable) == before
    _edit_facts(publishable, lambda facts: _set_checks(facts, blocking_failed=True))
    with pytest.raises(PublishRefusedError, match="blocking check"):
        publish_release(publishable, "org/banking-gaps", dry_run=True)


def test_a_wrong_token_fails_with_the_status_and_never_the_token(
    hub: HubServer, publishable: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "hf_WRONGfakeTokenForPublishTests01234567890"
    monkeypatch.setenv("HF_TOKEN", wrong)
    with pytest.raises(PublishError, match=r"while creating the repo: .*401") as failed:
        publish_release(publishable, "org/banking-gaps", endpoint=hub.url)
    assert "check that HF_TOKEN holds a write token for 'org'" in str(failed.value)
    assert wrong not in str(failed.value)
    assert _server_repos(hub) == []


def test_an_existing_public_repo_is_not_used_for_a_private_release(
    hub: HubServer, publishable: Path
) -> None:
    HfApi(endpoint=hub.url, token=PLANTED).create_repo("org/banking-gaps", repo_type="dataset")
    with pytest.raises(PublishRefusedError, match="already exists and is public"):
        publish_release(publishable, "org/banking-gaps", private=True, endpoint=hub.url)
    info = HfApi(endpoint=hub.url, token=PLANTED).repo_info("org/banking-gaps", repo_type="dataset")
    assert info.siblings == []


@pytest.mark.parametrize(
    ("endpoint", "refused"),
    [
        ("http://127.0.0.1:8080", False),
        ("http://[::ffff:127.0.0.1]:8080", False),
        ("http://hub.localhost:8080", False),
        ("http://[::ffff:10.0.0.1]:8080", True),
        ("http://localhost.example.org", True),
    ],
)
def test_plain_http_is_for_loopback_hosts_only(
    publishable: Path, endpoint: str, refused: bool
) -> None:
    """The same loopback rule as the embedder and the teacher (`factory.endpoints`)."""
    reasons, _ = refusal_reasons(publishable, "org/x", endpoint=endpoint, dry_run=True)
    assert any("unencrypted" in r for r in reasons) is refused


def test_plain_http_off_loopback_and_a_release_outside_home_are_refused(
    publishable: Path, tmp_path: Path
) -> None:
    with pytest.raises(PublishRefusedError, match="would send HF_TOKEN unencrypted"):
        publish_release(publishable, "org/banking-gaps", endpoint="http://hub.example.org")
    loose = tmp_path / "elsewhere" / VERSION
    loose.parent.mkdir()
    publishable.rename(loose)
    assert release_ledger_path(loose) is None
    with pytest.raises(PublishRefusedError, match="pass the ledger path"):
        publish_release(loose, "org/banking-gaps", dry_run=True)
    plan = publish_release(loose, "org/x", dry_run=True, ledger=tmp_path / "ledger.jsonl")
    assert plan.ledger == tmp_path / "ledger.jsonl"


def _signature_reasons(release: Path, **options: Any) -> list[str]:
    reasons, _ = refusal_reasons(release, "org/x", dry_run=True, **options)
    return [r for r in reasons if "signature" in r or "signed" in r]


def test_a_signed_release_stripped_of_its_signature_is_refused(
    built_release: BuiltSample, tmp_path: Path
) -> None:
    release = built_release.release
    assert _signature_reasons(release) == []
    (release / "signature.sig").unlink()
    (reason,) = _signature_reasons(release)
    assert reason.startswith("the release does not verify: signature.sig is missing")
    assert f"names key {built_release.fingerprint}" in reason
    assert _signature_reasons(release, allow_unsigned=True) == []
    other = init_keys(tmp_path / "other" / "key.pem")
    sign_release(release, other.private_key)  # re-signed by another key: the record names ours
    reasons = _signature_reasons(release)
    assert any(other.fingerprint in r and built_release.fingerprint in r for r in reasons), reasons


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_python("-m", "assets.cli", *args, env=env)


def test_factory_publish_command(hub: HubServer, publishable: Path, home: Path) -> None:
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": PLANTED,
        "HF_HUB_OFFLINE": "0",
        "COLUMNS": "200",
    }
    dry = _cli("publish", str(publishable), "--repo-id", "org/cli", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dry run" in dry.stdout
    assert "data/synthetic.parquet" in dry.stdout
    assert _server_repos(hub) == []

    bad_use = _cli("publish", str(publishable), "--repo-id", "org/cli", "--use", "resale", env=env)
    assert bad_use.returncode == 1
    assert "--use 'resale' is not one of commercial, non-commercial, academic" in bad_use.stderr

    done = _cli("publish", str(publishable), "--repo-id", "org/cli", "--private", env=env)
    assert done.returncode == 0, done.stderr
    (record,) = Ledger(home / "provenance" / "ledger.jsonl").records("publication")
    assert f"commit {record['body']['commit_sha']}" in done.stdout
    assert f"as tag v-{VERSION}" in done.stdout

    again = _cli("publish", str(publishable), "--repo-id", "org/cli", "--private", env=env)
    assert again.returncode == 1
    assert "refused" in again.stderr
    assert "already published" in again.stderr
    outputs = [dry.stdout, dry.stderr, done.stdout, done.stderr, again.stdout, again.stderr]
    assert not [text for text in outputs if PLANTED in text]
