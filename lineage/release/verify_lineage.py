"""The lineage half of `verify_release`: a release folder against the project ledger.

The ledger's hash chain must be intact; it must hold a `release` record for exactly this manifest
(the SHA-256 of `MANIFEST.sha256`), a materialization record for every layer the report lists at
the data version it states, and, when the folder carries `ledger-head.json`, the head it names
with the release's record after it (`lineage.release.anchor`). A release in its project that
says it was recorded but finds no ledger is tampering; a copy outside its project gets a note.

Example:
    >>> check_lineage(home.release_dir("3f2a9c1d0b7e"), None).problems  # doctest: +SKIP
    []
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.home import Home
from lineage.errors import LineageError
from lineage.ledger import Ledger
from lineage.release.anchor import (
    LEDGER_HEAD_NAME,
    LedgerHead,
    anchor_problems,
    read_ledger_head,
    well_formed,
)
from lineage.release.manifest import MANIFEST_NAME

__all__ = [
    "RELEASE_RECORD",
    "LineageCheck",
    "check_lineage",
    "manifest_digest",
    "release_ledger_path",
]

RELEASE_RECORD = "release"
"""The ledger record kind `dataset_release` appends for every folder it writes."""


@dataclass(frozen=True)
class LineageCheck:
    """Problems (tampering), notes (what was not checked), the ledger read and the ledger's
    `release` record of this exact manifest (None: none found or no ledger)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ledger: Path | None = None
    record: dict[str, Any] | None = None


def manifest_digest(release_dir: Path) -> str:
    """SHA-256 of the release's `MANIFEST.sha256` bytes: one hash that pins every file."""
    return hashlib.sha256((Path(release_dir) / MANIFEST_NAME).read_bytes()).hexdigest()


def release_ledger_path(release_dir: Path) -> Path | None:
    """The project ledger of a release at `HOME/releases/<version>`, else None (a copy)."""
    home = Home.of_release(release_dir)
    return home.ledger if home is not None else None


def _in_project(release_dir: Path) -> bool:
    """Whether the folder sits in a project home (HOME/releases/<v> beside its other folders)."""
    home = Home.of_release(release_dir)
    return home is not None and any(p.is_dir() for p in (home.provenance, home.tables, home.keys))


def check_lineage(release_dir: Path, ledger: Path | None) -> LineageCheck:
    """Check `release_dir` against `ledger` (default: the project ledger beside it)."""
    release_dir = Path(release_dir)
    explicit = ledger is not None
    ledger_file = Path(ledger) if ledger is not None else release_ledger_path(release_dir)
    try:
        head = read_ledger_head(release_dir)
    except LineageError as exc:
        return LineageCheck(problems=[str(exc)])
    if ledger_file is not None and ledger_file.is_file():
        if not (release_dir / MANIFEST_NAME).is_file():
            return LineageCheck(ledger=ledger_file)
        return _against(release_dir, Ledger(ledger_file), head)
    if explicit:
        return LineageCheck(problems=[f"ledger {str(ledger_file)!r} does not exist"])
    if head is not None and _in_project(release_dir):
        return LineageCheck(
            problems=[
                f"the release says ({LEDGER_HEAD_NAME}) it was recorded in the project ledger "
                f"after seq {head['seq']}, but ledger {str(ledger_file)!r} is missing: it was "
                "deleted or moved; restore it from a backup"
            ]
        )
    where = f"at {str(ledger_file)!r}" if ledger_file else "beside it"
    recorded = (
        f"; it says it was recorded in its project ledger after seq {head['seq']} (hash "
        f"{head['hash'][:16]}…)"
        if head is not None
        else ""
    )
    return LineageCheck(
        notes=[
            f"lineage not checked: no project ledger {where} (the release was moved out of its "
            f"project?){recorded}; pass --ledger HOME/provenance/ledger.jsonl"
        ]
    )


def _against(release_dir: Path, ledger: Ledger, head: LedgerHead | None) -> LineageCheck:
    try:
        chain = ledger.verify()
        records = well_formed(ledger.records())
    except LineageError as exc:
        return LineageCheck(problems=[f"ledger {ledger.path}: {exc}"], ledger=ledger.path)
    name = ledger.path.name
    problems = [f"ledger {name}: {p}" for p in chain.problems]
    notes = [f"ledger {name}: {chain.incomplete}"] if chain.incomplete else []
    cut = anchor_problems(head, records) if head is not None else []
    problems += cut
    digest = manifest_digest(release_dir)
    matching = [
        r
        for r in records
        if r.get("kind") == RELEASE_RECORD and r.get("body", {}).get("manifest_sha256") == digest
    ]
    if not matching:
        if not cut:
            problems.append(_unrecorded(release_dir, records, digest))
        return LineageCheck(problems, notes, ledger.path)
    record = matching[-1]
    recorded_head = record["body"].get("ledger_head")
    if head is not None and (recorded_head != head or record["seq"] <= head["seq"]):
        problems.append(
            f"the ledger's release record (seq {record['seq']}) names ledger head "
            f"{recorded_head}, the folder's {LEDGER_HEAD_NAME} names {dict(head)}"
        )
    problems += _check_layers(release_dir, records)
    return LineageCheck(problems, notes, ledger.path, record)


def _unrecorded(release_dir: Path, records: list[dict[str, Any]], digest: str) -> str:
    named = [
        r for r in records
        if r.get("kind") == RELEASE_RECORD and r["body"].get("version") == release_dir.name
    ]  # fmt: skip
    if named:
        return (
            f"the ledger's release record for {release_dir.name} (seq {named[-1]['seq']}) "
            f"names manifest sha256 {named[-1]['body'].get('manifest_sha256')}, the folder's "
            f"is {digest}: the folder changed after it was recorded"
        )
    return f"the ledger holds no release record for this folder (manifest sha256 {digest})"


def _check_layers(release_dir: Path, records: list[dict[str, Any]]) -> list[str]:
    """Every layer the report lists must have a materialization record at its data version."""
    try:
        facts = json.loads((release_dir / "report.json").read_text(encoding="utf-8"))
        layers = [x for x in facts["report"]["layers"] or [] if isinstance(x, dict)]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"report.json is unreadable ({exc}); the lineage cannot be checked"]
    written: set[tuple[str, str | None]] = set()
    for record in records:
        outputs = record["body"].get("outputs")
        if record.get("kind") == "materialization" and isinstance(outputs, dict):
            for table, out in outputs.items():
                written.add((table, out.get("data_version") if isinstance(out, dict) else None))
    problems = []
    for layer in layers:
        key = (layer.get("table"), layer.get("data_version"))
        if key not in written:
            problems.append(
                f"report layer {key[0]} at data version {key[1]} has no materialization record "
                "in the ledger"
            )
    return problems
