"""Make a release from its facts: write the folder, sign it, record it in the project ledger.

`signing_entry` gets the report's signing facts for a key (creating the pair on first use);
`build_release` writes `HOME/releases/<version>` from `ReleaseFacts`, signs it with that key and
appends the ledger's `release` record that `factory verify` checks the folder against. A release
it records carries the ledger's head before that record (`ledger-head.json`, and `ledger_head`
in the record), so a deleted ledger or a cut tail shows (`lineage.release.anchor`).

Example:
    >>> signing, created = signing_entry(home.signing_key)  # doctest: +SKIP
    >>> built = build_release(home, facts, home.signing_key)  # doctest: +SKIP
    >>> built.record["manifest_sha256"] == manifest_digest(built.info.path)  # doctest: +SKIP
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from factory.home import Home
from lineage.ledger import Ledger
from lineage.release.anchor import LedgerHead, building, ledger_head
from lineage.release.facts import ReleaseFacts
from lineage.release.info import ReleaseInfo, SigningEntry
from lineage.release.signing import (
    PUBLIC_KEY_NAME,
    SIGNATURE_NAME,
    SIGNING_METHOD,
    KeyPair,
    init_keys,
    public_key_fingerprint,
    public_key_path,
    sign_release,
)
from lineage.release.verify import RELEASE_RECORD, manifest_digest
from lineage.release.writer import write_release

__all__ = ["BuiltRelease", "build_release", "release_record", "signing_entry"]


@dataclass(frozen=True)
class BuiltRelease:
    """A written (and, with a key, signed) release and its ledger record."""

    info: ReleaseInfo
    record: dict[str, Any]
    recorded: bool
    """Whether `record` was appended to the ledger (lineage on)."""

    @property
    def files(self) -> int:
        """Files in the folder, the signature and the public key included."""
        signed = self.record["public_key_fingerprint"] is not None
        return len(self.info.files) + (2 if signed else 0)


def signing_entry(private_key: Path) -> tuple[SigningEntry, KeyPair | None]:
    """The report's signing facts for `private_key`, and the new pair when it had to be created
    (the caller says so: the private key must be backed up and never enters a release)."""
    created = None if private_key.is_file() else init_keys(private_key)
    entry: SigningEntry = {
        "public_key_fingerprint": public_key_fingerprint(public_key_path(private_key)),
        "signature_file": SIGNATURE_NAME,
        "public_key_file": PUBLIC_KEY_NAME,
        "method": SIGNING_METHOD,
    }
    return entry, created


def release_record(
    release_dir: Path,
    run_id: str,
    signing: SigningEntry | None,
    exclusions: list[Any],
    head: LedgerHead | None = None,
) -> dict[str, Any]:
    """The ledger's `release` record of a written folder (`head`: the ledger's last record
    before it, as the folder's `ledger-head.json` states)."""
    return {
        "version": release_dir.name,
        "path": str(release_dir),
        "manifest_sha256": manifest_digest(release_dir),
        "dagster_run_id": run_id,
        "public_key_fingerprint": signing["public_key_fingerprint"] if signing else None,
        "exclusions": list(exclusions),
        "ledger_head": None if head is None else {"seq": head["seq"], "hash": head["hash"]},
    }


def build_release(
    home: Home, facts: ReleaseFacts, signing_key: Path | None, *, record: bool = True
) -> BuiltRelease:
    """Write `facts` to `HOME/releases/<folder>`, sign it with `signing_key` (None: unsigned)
    and, when `record`, append its `release` record to the project ledger."""
    folder = home.release_dir(facts.folder)
    with building(folder):  # readers wait until the folder is signed and recorded
        head = ledger_head(home.ledger) if record else None
        info = write_release(folder, facts.tables, facts.card, facts.report, ledger_head=head)
        if signing_key is not None:
            sign_release(info.path, signing_key)
        report = facts.report
        body = release_record(info.path, report.run_id, report.signing, report.exclusions, head)
        if record:
            Ledger(home.ledger).append(RELEASE_RECORD, body)
    return BuiltRelease(info, body, record)
