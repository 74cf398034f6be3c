"""Publish a release folder to a Hugging Face Hub dataset repo, and record it in the ledger.

`publish_release` first runs every check and collects every reason to refuse: the folder must
verify (`verify.verify_release`; a release that report.json or its ledger record says was signed
must carry a valid signature by the key the ledger's record names, unless `allow_unsigned`; a
recorded release needs its ledger), no check marked `blocking` may have failed, the license
class must allow the use (`licenses.use_allowed`; the use is the argument or else the
card's `declared_use`), and `HF_TOKEN` must be set (except for a dry run) and appear in no file of
the release. Only then does it create the dataset repo (public or private), upload the folder as
it is, tag the commit `v-<version>` (the folder name, e.g. `v-3f2a9c1d0b7e`) and append a
`publication` record (repo, endpoint, commit, tag, visibility, every file's SHA-256) to the
project ledger, `HOME/provenance/ledger.jsonl` beside `HOME/releases/<version>`. The release
folder is never edited. The token is read from the environment only and goes nowhere but the
`Authorization` header: not into the result, the ledger, an error message or a log line.

Example:
    >>> plan = publish_release(release_dir, "org/banking77-gaps", dry_run=True)  # doctest: +SKIP
    >>> plan.tag, plan.commit_sha  # doctest: +SKIP
    ('v-3f2a9c1d0b7e', None)
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from factory.endpoints import is_loopback
from lineage.errors import LineageError
from lineage.ledger import Ledger
from lineage.release.anchor import LEDGER_HEAD_NAME
from lineage.release.licenses import LICENSE_CLASSES, USES, use_allowed
from lineage.release.manifest import MANIFEST_NAME, file_sha256
from lineage.release.verify import release_ledger_path, verify_release
from lineage.secrets import find_secrets, redact_secrets

__all__ = [
    "DEFAULT_ENDPOINT",
    "TAG_PREFIX",
    "TOKEN_ENV",
    "PublishError",
    "PublishRefusedError",
    "PublishResult",
    "PublishedFile",
    "publish_release",
    "refusal_reasons",
]

DEFAULT_ENDPOINT = "https://huggingface.co"
TAG_PREFIX = "v-"
"""A release `3f2a9c1d0b7e` is tagged `v-3f2a9c1d0b7e` (a bare hex tag reads like a commit id)."""
TOKEN_ENV = "HF_TOKEN"
LEDGER_KIND = "publication"
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


class PublishError(LineageError):
    """A release could not be published (the Hub refused or could not be reached)."""


class PublishRefusedError(PublishError):
    """A release was refused before anything was uploaded; `reasons` holds every reason."""

    def __init__(self, release_dir: Path, reasons: list[str]) -> None:
        self.release_dir = Path(release_dir)
        self.reasons = list(reasons)
        lines = "".join(f"\n  - {reason}" for reason in self.reasons)
        super().__init__(f"refusing to publish {str(self.release_dir)!r}; nothing uploaded:{lines}")


@dataclass(frozen=True)
class PublishedFile:
    """One file of the release as uploaded: path in the repo, SHA-256 and size in bytes."""

    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PublishResult:
    """What was (or, for a dry run, would be) published; `commit_sha` is None for a dry run."""

    repo_id: str
    version: str
    tag: str
    commit_sha: str | None
    url: str
    endpoint: str
    private: bool
    use: str
    files: tuple[PublishedFile, ...]
    dry_run: bool
    ledger: Path | None = None

    @property
    def revision(self) -> str:
        """The revision to download this release by: its tag."""
        return self.tag

    @property
    def total_bytes(self) -> int:
        """Bytes uploaded (or to upload)."""
        return sum(f.size for f in self.files)


def _read_facts(release_dir: Path) -> tuple[dict[str, Any], list[str]]:
    path = release_dir / "report.json"
    try:
        facts = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}, [f"{path.name} is missing, so its checks and license cannot be read"]
    except ValueError as exc:
        return {}, [f"{path.name} is not valid JSON ({exc})"]
    if not isinstance(facts, dict):
        return {}, [f"{path.name} holds a {type(facts).__name__}, not an object"]
    return facts, []


def _section(facts: dict[str, Any], name: str) -> dict[str, Any]:
    value = facts.get(name)
    return value if isinstance(value, dict) else {}


def _blocking_failures(facts: dict[str, Any]) -> list[str]:
    checks = _section(facts, "report").get("checks", [])
    if not isinstance(checks, list):
        return [f"report.json report.checks is a {type(checks).__name__}, not a list"]
    out = []
    for i, check in enumerate(checks):
        if not isinstance(check, dict):
            out.append(f"report.json report.checks[{i}] is not an object")
            continue
        applicable = check.get("applicable", True) is not False
        if applicable and check.get("blocking") is True and check.get("passed") is not True:
            out.append(
                f"blocking check {check.get('name')!r} ({check.get('family')}) failed: observed "
                f"{check.get('observed')!r}, threshold {check.get('threshold')!r}; fix the data "
                "and write a new release"
            )
    return out


def _license_problems(facts: dict[str, Any], use: str | None) -> tuple[list[str], str | None]:
    card = _section(facts, "card")
    use = use or card.get("declared_use")
    license_class = card.get("license_class")
    reasons = []
    if use is None:
        reasons.append(
            "the release declares no use (card.declared_use is missing): pass the use, one of "
            f"{list(USES)} (--use)"
        )
    elif use not in USES:
        reasons.append(f"use {use!r} is not one of {list(USES)}")
    if license_class not in LICENSE_CLASSES:
        reasons.append(
            f"license class {license_class!r} is unknown (not one of {list(LICENSE_CLASSES)}); "
            "write the release again with a license class from lineage.release.licenses"
        )
    elif use in USES and not use_allowed(license_class, use):
        allowed = [u for u in USES if use_allowed(license_class, u)]
        reasons.append(
            f"license class {license_class!r} forbids {use!r} use (it allows {allowed}); "
            "publish for an allowed use or relicense the sources"
        )
    return reasons, use if use in USES else None


def _endpoint_problems(endpoint: str) -> list[str]:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"endpoint {endpoint!r} is not an http(s) URL like {DEFAULT_ENDPOINT}"]
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return [
            f"endpoint {endpoint!r} would send {TOKEN_ENV} unencrypted: use https:// (plain "
            "http is only for a local hub on 127.0.0.1 or localhost)"
        ]
    return []


def _token_problems(release_dir: Path, token: str | None, dry_run: bool) -> list[str]:
    if not token:
        if dry_run:
            return []
        return [
            f"{TOKEN_ENV} is not set: export a Hugging Face write token as {TOKEN_ENV} (it is "
            "read from the environment only, never from a flag or a file)"
        ]
    return [
        f"release file {path.relative_to(release_dir).as_posix()} contains the value of "
        f"{TOKEN_ENV}: the token must never be published; rotate it and write a new release"
        for path in _files(release_dir)
        if _holds(path, token.encode())
    ]


def _holds(path: Path, needle: bytes) -> bool:
    """Whether the file's bytes contain `needle`, read in 1 MiB blocks."""
    tail = b""
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            if needle in tail + block:
                return True
            tail = block[-(len(needle) - 1) :] if len(needle) > 1 else b""
    return False


def _files(release_dir: Path) -> list[Path]:
    return sorted(p for p in release_dir.rglob("*") if p.is_file())


def _manifest_hashes(release_dir: Path) -> dict[str, str]:
    path = release_dir / MANIFEST_NAME
    if not path.is_file():
        return {}
    pairs = (line.split("  ", 1) for line in path.read_text(encoding="utf-8").split("\n"))
    return {name: digest for digest, name in (p for p in pairs if len(p) == 2)}


def _published_files(release_dir: Path) -> tuple[PublishedFile, ...]:
    listed = _manifest_hashes(release_dir)
    out = []
    for path in _files(release_dir):
        name = path.relative_to(release_dir).as_posix()
        digest = listed.get(name) or file_sha256(path)
        out.append(PublishedFile(name, digest, path.stat().st_size))
    return tuple(out)


def refusal_reasons(
    release_dir: Path,
    repo_id: str,
    *,
    use: str | None = None,
    endpoint: str = DEFAULT_ENDPOINT,
    token: str | None = None,
    dry_run: bool = False,
    ledger: Path | None = None,
    allow_unsigned: bool = False,
) -> tuple[list[str], str | None]:
    """Every reason to refuse publishing `release_dir` as `repo_id`, and the use it checked."""
    release_dir = Path(release_dir).resolve()
    reasons: list[str] = []
    if not _REPO_ID.match(repo_id or ""):
        reasons.append(f"repo id {repo_id!r} is not ORG/NAME (letters, digits, '.', '_', '-')")
    reasons.extend(_endpoint_problems(endpoint))
    if not release_dir.is_dir():
        return [*reasons, f"release folder {str(release_dir)!r} does not exist"], use
    if not _VERSION.match(release_dir.name):
        reasons.append(f"release folder name {release_dir.name!r} cannot be a tag")
    # a ledger that does not exist yet (a first publication record) has no lineage to check,
    # unless the release says it was recorded in one
    known = ledger if ledger is not None and Path(ledger).is_file() else None
    if ledger is not None and known is None and (release_dir / LEDGER_HEAD_NAME).is_file():
        reasons.append(
            f"the release says ({LEDGER_HEAD_NAME}) it was recorded in a project ledger, but "
            f"ledger {str(ledger)!r} does not exist: pass the ledger it was recorded in"
        )
    # the publisher's own ledger record names the key the signature must be made with
    policy = "optional" if allow_unsigned else "recorded"
    verified = verify_release(release_dir, ledger=known, trust_embedded_key=True, signature=policy)
    reasons.extend(f"the release does not verify: {p}" for p in verified.problems)
    facts, unreadable = _read_facts(release_dir)
    reasons.extend(unreadable)
    reasons.extend(_blocking_failures(facts))
    license_reasons, checked_use = _license_problems(facts, use)
    reasons.extend(license_reasons)
    reasons.extend(f"report.json holds a secret at {p}" for p in find_secrets(facts, "facts"))
    reasons.extend(_token_problems(release_dir, token, dry_run))
    if ledger is None and release_ledger_path(release_dir) is None:
        reasons.append(
            f"no project ledger for {str(release_dir)!r}: it is not under HOME/releases/, so "
            "pass the ledger path (--ledger HOME/provenance/ledger.jsonl)"
        )
    return reasons, checked_use


def _hub_failure(step: str, exc: Exception, token: str, repo_id: str) -> PublishError:
    text = redact_secrets(str(exc).replace(token, "[REDACTED]")).strip().splitlines()
    detail = " ".join(line.strip() for line in text[:3] if line.strip())
    status = getattr(getattr(exc, "response", None), "status_code", None)
    hint = ""
    if status in (401, 403):
        hint = f"; check that {TOKEN_ENV} holds a write token for {repo_id.split('/')[0]!r}"
    return PublishError(f"publishing failed while {step}: {type(exc).__name__}: {detail}{hint}")


def publish_release(
    release_dir: Path,
    repo_id: str,
    *,
    private: bool = False,
    dry_run: bool = False,
    use: str | None = None,
    endpoint: str | None = None,
    ledger: Path | None = None,
    allow_unsigned: bool = False,
) -> PublishResult:
    """Check, upload, tag and record one release; a dry run checks and plans without a network
    call. Raises `PublishRefusedError` (every reason) before anything is uploaded;
    `allow_unsigned` lets a release whose signature is missing through."""
    release_dir = Path(release_dir).resolve()
    endpoint = (endpoint or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
    token = os.environ.get(TOKEN_ENV, "").strip() or None
    reasons, checked_use = refusal_reasons(
        release_dir,
        repo_id,
        use=use,
        endpoint=endpoint,
        token=token,
        dry_run=dry_run,
        ledger=ledger,
        allow_unsigned=allow_unsigned,
    )
    if reasons or checked_use is None:
        raise PublishRefusedError(release_dir, reasons or ["no use was checked"])
    ledger_path = Path(ledger) if ledger is not None else release_ledger_path(release_dir)
    version = release_dir.name
    plan = PublishResult(
        repo_id=repo_id,
        version=version,
        tag=TAG_PREFIX + version,
        commit_sha=None,
        url=f"{endpoint}/datasets/{repo_id}",
        endpoint=endpoint,
        private=private,
        use=checked_use,
        files=_published_files(release_dir),
        dry_run=dry_run,
        ledger=ledger_path,
    )
    if dry_run:
        return plan
    if token is None or ledger_path is None:  # refused above already; this narrows the types
        raise PublishRefusedError(release_dir, [f"{TOKEN_ENV} or the ledger path is missing"])
    commit_sha = _upload(release_dir, plan, token)
    record = _ledger_body(plan, commit_sha, _section(_read_facts(release_dir)[0], "card"))
    if token in json.dumps(record):
        msg = f"the {LEDGER_KIND} record would hold the value of {TOKEN_ENV}; it was not written"
        raise PublishError(msg)
    Ledger(ledger_path).append(LEDGER_KIND, record)
    return replace(plan, commit_sha=commit_sha)


def _upload(release_dir: Path, plan: PublishResult, token: str) -> str:
    """Create the repo, refuse a visibility mismatch or an existing tag, upload and tag; returns
    the commit id."""
    from huggingface_hub import HfApi

    api = HfApi(endpoint=plan.endpoint, token=token)
    kind = "dataset"
    step = "creating the repo"
    try:
        api.create_repo(plan.repo_id, repo_type=kind, private=plan.private, exist_ok=True)
        step = "reading the repo"
        info = api.repo_info(plan.repo_id, repo_type=kind)
        refs = api.list_repo_refs(plan.repo_id, repo_type=kind)
    except Exception as exc:
        raise _hub_failure(step, exc, token, plan.repo_id) from None
    reasons = []
    if bool(info.private) != plan.private:
        now, wanted = ("private", "public") if info.private else ("public", "private")
        reasons.append(
            f"repo {plan.repo_id!r} already exists and is {now}, but the release was to be "
            f"{wanted}: change its visibility on the hub first, or publish "
            + ("with --private" if info.private else "without --private")
        )
    taken = {t.name: t.target_commit for t in refs.tags}
    if plan.tag in taken:
        reasons.append(
            f"release {plan.version} is already published: tag {plan.tag!r} in {plan.repo_id!r} "
            f"points at commit {taken[plan.tag]}"
        )
    if reasons:
        raise PublishRefusedError(release_dir, reasons)
    try:
        step = "uploading the release"
        commit = api.upload_folder(
            repo_id=plan.repo_id,
            folder_path=str(release_dir),
            repo_type=kind,
            commit_message=f"Release {plan.version}",
            commit_description=(
                f"factory release {plan.version}: {len(plan.files)} files, "
                f"{plan.total_bytes:,} bytes, for {plan.use} use."
            ),
        )
        step = f"tagging the commit {plan.tag}"
        api.create_tag(
            plan.repo_id,
            tag=plan.tag,
            revision=commit.oid,
            tag_message=f"factory release {plan.version}",
            repo_type=kind,
        )
    except Exception as exc:
        raise _hub_failure(step, exc, token, plan.repo_id) from None
    return str(commit.oid)


def _ledger_body(plan: PublishResult, commit_sha: str, card: dict[str, Any]) -> dict[str, Any]:
    return {
        "release": plan.version,
        "repo_id": plan.repo_id,
        "repo_type": "dataset",
        "endpoint": plan.endpoint,
        "url": plan.url,
        "commit_sha": commit_sha,
        "tag": plan.tag,
        "private": plan.private,
        "use": plan.use,
        "license_class": card.get("license_class"),
        "files": [{"path": f.path, "sha256": f.sha256, "bytes": f.size} for f in plan.files],
        "total_bytes": plan.total_bytes,
    }
