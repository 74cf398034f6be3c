"""Verify a release folder: its manifest, its signature and its place in the project ledger.

Three independent checks, every problem named:

- the manifest: every file's SHA-256 matches `MANIFEST.sha256`, none missing, none added;
- the signature: `signature.sig` verifies over the whole folder with the publisher's public key
  (the copy the release carries unless one is passed; compare its fingerprint with the one the
  publisher announces);
- the lineage: the project ledger's hash chain is intact, it holds a `release` record for exactly
  this manifest (and this signing key), and every layer the report lists was recorded there at the
  data version the report states.

A release copied away from its project has no ledger beside it (`HOME/releases/<version>` next to
`HOME/provenance/ledger.jsonl`); then the lineage check is skipped with a note, not failed.

Example:
    >>> result = verify_release(home.release_dir("3f2a9c1d0b7e"))  # doctest: +SKIP
    >>> result.ok, result.problems  # doctest: +SKIP
    (True, [])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.home import Home
from lineage.errors import LineageError
from lineage.ledger import Ledger
from lineage.release.manifest import MANIFEST_NAME, verify_manifest
from lineage.release.signing import PUBLIC_KEY_NAME, public_key_fingerprint, verify_signature

__all__ = [
    "RELEASE_RECORD",
    "ReleaseVerification",
    "manifest_digest",
    "release_ledger_path",
    "verify_release",
]

RELEASE_RECORD = "release"
"""The ledger record kind `dataset_release` appends for every folder it writes."""


@dataclass(frozen=True)
class ReleaseVerification:
    """The outcome of `verify_release`: problems fail it; notes say what was not checked."""

    release_dir: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    signed_by: str | None = None
    """The SHA-256 fingerprint of the public key the signature verified with."""
    ledger: Path | None = None
    """The ledger the lineage was checked against (None: not checked)."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.problems


def manifest_digest(release_dir: Path) -> str:
    """SHA-256 of the release's `MANIFEST.sha256` bytes: one hash that pins every file."""
    import hashlib

    return hashlib.sha256((Path(release_dir) / MANIFEST_NAME).read_bytes()).hexdigest()


def release_ledger_path(release_dir: Path) -> Path | None:
    """The project ledger of a release at `HOME/releases/<version>`, else None (a copy)."""
    home = Home.of_release(release_dir)
    return home.ledger if home is not None else None


def verify_release(
    release_dir: Path,
    public_key: Path | None = None,
    ledger: Path | None = None,
    *,
    require_signature: bool = True,
) -> ReleaseVerification:
    """Check `release_dir`'s manifest, signature (with `public_key`, default the copy it
    carries) and lineage (in `ledger`, default the project ledger beside it)."""
    release_dir = Path(release_dir)
    if not release_dir.is_dir():
        return ReleaseVerification(
            release_dir, problems=[f"release folder {str(release_dir)!r} does not exist"]
        )
    problems = list(verify_manifest(release_dir))
    notes: list[str] = []
    manifest = release_dir / MANIFEST_NAME
    files = len(manifest.read_text(encoding="utf-8").splitlines()) if manifest.is_file() else 0
    signed_by = _check_signature(release_dir, public_key, require_signature, problems, notes)
    explicit = ledger is not None
    ledger_file = Path(ledger) if explicit else release_ledger_path(release_dir)
    checked: Path | None = None
    if ledger_file is not None and ledger_file.is_file():
        checked = ledger_file
        if manifest.is_file():
            problems += _check_lineage(release_dir, Ledger(ledger_file), signed_by)
    elif explicit:
        problems.append(f"ledger {str(ledger_file)!r} does not exist")
    else:
        where = f"at {str(ledger_file)!r}" if ledger_file else "beside it"
        notes.append(
            f"lineage not checked: no project ledger {where} (the release was moved out of its "
            "project?); pass --ledger HOME/provenance/ledger.jsonl"
        )
    return ReleaseVerification(release_dir, problems, notes, files, signed_by, checked)


def _check_signature(
    release_dir: Path,
    public_key: Path | None,
    required: bool,
    problems: list[str],
    notes: list[str],
) -> str | None:
    from lineage.release.signing import SIGNATURE_NAME

    if not (release_dir / SIGNATURE_NAME).is_file() and public_key is None and not required:
        notes.append(f"signature not checked: the release has no {SIGNATURE_NAME}")
        return None
    found = verify_signature(release_dir, public_key)
    if found:
        problems += found
        return None
    key = Path(public_key) if public_key is not None else release_dir / PUBLIC_KEY_NAME
    fingerprint = public_key_fingerprint(key)
    if public_key is None:
        notes.append(
            f"signature checked with the key the release carries ({PUBLIC_KEY_NAME}, SHA-256 "
            f"{fingerprint}); pass --public-key to check it against the publisher's own copy"
        )
    return fingerprint


def _check_lineage(release_dir: Path, ledger: Ledger, signed_by: str | None) -> list[str]:
    try:
        chain = ledger.verify()
        records = ledger.records()
    except LineageError as exc:
        return [f"ledger {ledger.path}: {exc}"]
    problems = [f"ledger {ledger.path.name}: {p}" for p in chain.problems]
    digest = manifest_digest(release_dir)
    matching = [
        r
        for r in records
        if r.get("kind") == RELEASE_RECORD and r.get("body", {}).get("manifest_sha256") == digest
    ]
    if not matching:
        named = [
            r for r in records
            if r.get("kind") == RELEASE_RECORD and r["body"].get("version") == release_dir.name
        ]  # fmt: skip
        if named:
            problems.append(
                f"the ledger's release record for {release_dir.name} (seq {named[-1]['seq']}) "
                f"names manifest sha256 {named[-1]['body'].get('manifest_sha256')}, the folder's "
                f"is {digest}: the folder changed after it was recorded"
            )
        else:
            problems.append(
                f"the ledger holds no release record for this folder (manifest sha256 {digest})"
            )
        return problems
    record = matching[-1]["body"]
    recorded_key = record.get("public_key_fingerprint")
    if signed_by is not None and recorded_key is not None and recorded_key != signed_by:
        problems.append(
            f"the release is signed with key {signed_by}, the ledger recorded key {recorded_key}"
        )
    problems += _check_layers(release_dir, records)
    return problems


def _check_layers(release_dir: Path, records: list[dict[str, Any]]) -> list[str]:
    """Every layer the report lists must have a materialization record at its data version."""
    try:
        facts = json.loads((release_dir / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"report.json is unreadable ({exc}); the lineage cannot be checked"]
    written: set[tuple[str, str | None]] = set()
    for record in records:
        if record.get("kind") == "materialization":
            for table, out in (record.get("body", {}).get("outputs") or {}).items():
                written.add((table, (out or {}).get("data_version")))
    problems = []
    for layer in facts.get("report", {}).get("layers") or []:
        key = (layer.get("table"), layer.get("data_version"))
        if key not in written:
            problems.append(
                f"report layer {key[0]} at data version {key[1]} has no materialization record "
                "in the ledger"
            )
    return problems
