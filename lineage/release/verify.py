"""Verify a release folder: its files, who signed it, and its place in the project ledger.

Three checks, every problem named:

- the manifest: every file's SHA-256 matches `MANIFEST.sha256`, none missing, none added, and no
  symbolic link or special file anywhere in the folder;
- the signature: `signature.sig` verifies over the whole folder, by the key report.json and the
  ledger's record name. It authenticates the publisher only when the verifier trusts that key
  already: `public_key`, or a fingerprint in the trusted-keys file (`lineage.release.trust`).
  The copy the release carries (`signing-key.pub`) proves integrity only, since whoever re-signs a
  folder puts their own key there: without a trusted key the result is `unauthenticated`
  ("integrity only, publisher not authenticated") unless `trust_embedded_key`;
- the lineage (`lineage.release.verify_lineage`): the project ledger's chain is intact, it holds
  the release's record, every layer the report lists and the ledger head the release recorded.

A release being built in its project is checked once it is recorded: `verify_release` waits for
its build lock (`lineage.release.anchor.settled`). `signature` says when a missing
`signature.sig` fails: `required` (always), `recorded` (when
report.json, the ledger's record or a `signing-key.pub` says the release was signed: what
`factory publish` asks) or `optional` (`--allow-unsigned`).

Example:
    >>> result = verify_release(release, public_key=Path("publisher.pub"))  # doctest: +SKIP
    >>> result.ok, result.problems, result.trusted_by  # doctest: +SKIP
    (True, [], '--public-key publisher.pub')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from lineage.errors import LineageError
from lineage.release.anchor import settled
from lineage.release.manifest import MANIFEST_NAME, verify_manifest
from lineage.release.signing import (
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    public_key_fingerprint,
    verify_signature,
)
from lineage.release.trust import TrustedKeys
from lineage.release.verify_lineage import (
    RELEASE_RECORD,
    LineageCheck,
    check_lineage,
    manifest_digest,
    release_ledger_path,
)

__all__ = [
    "RELEASE_RECORD",
    "SIGNATURE_POLICIES",
    "ReleaseVerification",
    "manifest_digest",
    "release_ledger_path",
    "verify_release",
]

SIGNATURE_POLICIES = ("required", "recorded", "optional")
"""When a missing signature fails: always, when something says it was signed, never."""


@dataclass(frozen=True)
class ReleaseVerification:
    """The outcome of `verify_release`: problems are tampering, `unauthenticated` says why the
    publisher is not authenticated, notes say what was not checked."""

    release_dir: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    signed_by: str | None = None
    """The SHA-256 fingerprint of the public key the signature verified with."""
    ledger: Path | None = None
    """The ledger the lineage was checked against (None: not checked)."""
    trusted_by: str | None = None
    """What vouches for `signed_by`: `--public-key PATH` or `line N of FILE`; None: nothing."""
    unauthenticated: str | None = None
    """Why the publisher is not authenticated (integrity only); None when a trusted key
    verified, the carried key was accepted, or an unsigned release was allowed."""

    @property
    def intact(self) -> bool:
        """True when no file, signature or ledger record was found changed."""
        return not self.problems

    @property
    def ok(self) -> bool:
        """True when nothing failed and the publisher is authenticated (or accepted)."""
        return not self.problems and self.unauthenticated is None


def verify_release(
    release_dir: Path,
    public_key: Path | None = None,
    ledger: Path | None = None,
    *,
    trusted_keys: TrustedKeys | None = None,
    trust_embedded_key: bool = False,
    signature: str = "required",
) -> ReleaseVerification:
    """Check `release_dir`'s manifest, signature (authenticated by `public_key` or
    `trusted_keys`) and lineage (in `ledger`, default the project ledger beside it)."""
    release_dir = Path(release_dir)
    if signature not in SIGNATURE_POLICIES:
        msg = f"signature policy {signature!r} is not one of {list(SIGNATURE_POLICIES)}"
        raise LineageError(msg)
    if not release_dir.is_dir():
        return ReleaseVerification(
            release_dir, problems=[f"release folder {str(release_dir)!r} does not exist"]
        )
    with settled([release_dir]):  # a release being built is checked once it is recorded
        return _verify(release_dir, public_key, ledger, trusted_keys, trust_embedded_key, signature)


def _verify(
    release_dir: Path,
    public_key: Path | None,
    ledger: Path | None,
    trusted_keys: TrustedKeys | None,
    trust_embedded_key: bool,
    signature: str,
) -> ReleaseVerification:
    problems = list(verify_manifest(release_dir))
    manifest = release_dir / MANIFEST_NAME
    files = manifest.read_bytes().count(b"\n") if manifest.is_file() else 0
    lineage = check_lineage(release_dir, ledger)
    problems += lineage.problems
    notes = list(lineage.notes)
    claims = _key_claims(release_dir, lineage)
    signed_by = _check_signature(release_dir, public_key, signature, claims, problems, notes)
    for who, fingerprint in claims:
        if signed_by is not None and fingerprint != signed_by:
            problems.append(
                f"the release is signed with key {signed_by}, but {who} names key {fingerprint}"
            )
    trusted_by, unauthenticated = None, None
    if signed_by is not None:
        trusted_by, unauthenticated = _authenticate(
            signed_by, public_key, trusted_keys, trust_embedded_key, notes
        )
    return ReleaseVerification(
        release_dir, problems, notes, files, signed_by, lineage.ledger, trusted_by, unauthenticated
    )


def _key_claims(release_dir: Path, lineage: LineageCheck) -> list[tuple[str, str]]:
    """Who says which key signed the release: report.json (the card and the report show it)
    and the ledger's release record."""
    claims = []
    try:
        facts = json.loads((release_dir / "report.json").read_text(encoding="utf-8"))
        signing = (facts.get("report") or {}).get("signing") or {}
        claimed = signing.get("public_key_fingerprint")
    except (OSError, ValueError, AttributeError):
        claimed = None  # the manifest check names a missing or changed report.json
    if isinstance(claimed, str):
        claims.append(("report.json (and the card)", claimed))
    if lineage.record is not None:
        recorded = lineage.record["body"].get("public_key_fingerprint")
        if isinstance(recorded, str):
            claims.append((f"the ledger's release record (seq {lineage.record['seq']})", recorded))
    return claims


def _check_signature(
    release_dir: Path,
    public_key: Path | None,
    policy: str,
    claims: list[tuple[str, str]],
    problems: list[str],
    notes: list[str],
) -> str | None:
    """The fingerprint of the key the signature verifies with; None when it is absent (a
    problem unless `policy` allows it) or does not verify (a problem)."""
    if not (release_dir / SIGNATURE_NAME).is_file():
        said = [f"{who} names key {fingerprint}" for who, fingerprint in claims]
        if (release_dir / PUBLIC_KEY_NAME).is_file():
            said.append(f"the folder carries {PUBLIC_KEY_NAME}")
        signed = f", although {'; '.join(said)}: the signature was removed" if said else ""
        if policy == "optional" or (policy == "recorded" and not said):
            allowed = " (allowed: unsigned releases were accepted)" if said else ""
            notes.append(
                f"signature not checked: the release has no {SIGNATURE_NAME}{signed}{allowed}; "
                "it shows integrity only"
            )
            return None
        problems.append(f"{SIGNATURE_NAME} is missing: the release is not signed{signed}")
        return None
    found = verify_signature(release_dir, public_key)
    if found:
        problems += found
        return None
    key = Path(public_key) if public_key is not None else release_dir / PUBLIC_KEY_NAME
    return public_key_fingerprint(key)


def _authenticate(
    signed_by: str,
    public_key: Path | None,
    trusted: TrustedKeys | None,
    trust_embedded_key: bool,
    notes: list[str],
) -> tuple[str | None, str | None]:
    """What vouches for `signed_by`, and why nothing does (None when accepted)."""
    if public_key is not None:
        return f"--public-key {public_key}", None
    if trusted is not None and signed_by in trusted.fingerprints:
        return trusted.fingerprints[signed_by], None
    carried = f"the key the release carries ({PUBLIC_KEY_NAME}, SHA-256 {signed_by})"
    if trust_embedded_key:
        notes.append(
            f"publisher not authenticated: the signature was checked with {carried}, accepted "
            "because the carried key was trusted; compare it with the fingerprint the publisher "
            "announces"
        )
        return None, None
    source = trusted.source if trusted is not None else None
    listed = ""
    if source is not None:
        listed = (
            f" No line of the trusted-keys file {source} names it."
            if source.is_file()
            else f" There is no trusted-keys file at {source}."
        )
    return None, (
        f"integrity only, publisher not authenticated: {SIGNATURE_NAME} verifies with {carried}, "
        f"and whoever re-signs a folder puts their own key there.{listed} Pass the publisher's "
        "key (--public-key KEY.pub), add its fingerprint to your trusted-keys file (factory keys "
        "trust KEY.pub), or accept the carried key with --trust-embedded-key"
    )
