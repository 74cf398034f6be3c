"""The ledger head a release records: where the project ledger stood when the folder was written.

`build_release` reads the ledger's last record (seq and hash) before it writes a release it will
record, writes it into the folder as `ledger-head.json` (listed in the manifest, covered by the
signature) and into the ledger's `release` record. The ledger alone cannot tell that its tail was
cut together with its `.head` file, or that it was deleted; a release that says it was recorded
can: the ledger must still hold that seq with that hash, and the release's record after it.

While a release is written, signed and recorded, its builder holds an exclusive lock on
`<folder>.lock` beside the folder (`building`); readers take it shared (`settled`) and so wait for
the build to end instead of taking a release not yet recorded for a cut ledger.

Example:
    >>> head = ledger_head(home.ledger)  # doctest: +SKIP
    >>> check_release_anchors(home)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

from factory.home import Home
from factory.locks import file_lock
from lineage.errors import LineageError
from lineage.ledger import Ledger

__all__ = [
    "LEDGER_HEAD_NAME",
    "LedgerHead",
    "anchor_problems",
    "building",
    "check_release_anchors",
    "ledger_head",
    "ledger_head_text",
    "read_ledger_head",
    "settled",
]

LEDGER_HEAD_NAME = "ledger-head.json"
_RELEASE = "release"  # the ledger record kind (`verify.RELEASE_RECORD`)


class LedgerHead(TypedDict):
    """The ledger's last record when a release was written: its seq and hash."""

    seq: int
    hash: str


def _lock_path(release_dir: Path) -> Path:
    return release_dir.with_name(release_dir.name + ".lock")


@contextlib.contextmanager
def building(release_dir: Path) -> Iterator[None]:
    """Hold `release_dir`'s build lock (exclusive) while it is written, signed and recorded."""
    release_dir = Path(release_dir)
    release_dir.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(_lock_path(release_dir)):
        yield


@contextlib.contextmanager
def settled(release_dirs: list[Path]) -> Iterator[None]:
    """Wait for the builds of `release_dirs` in progress and keep new ones out (shared locks on
    the build locks that exist; a folder without one was never built here)."""
    with contextlib.ExitStack() as stack:
        for release_dir in sorted(Path(p) for p in release_dirs):
            with contextlib.suppress(OSError):
                stack.enter_context(file_lock(_lock_path(release_dir), shared=True, create=False))
        yield


def ledger_head(ledger: Path) -> LedgerHead:
    """The seq and hash of `ledger`'s last record (seq 0 for an empty or absent ledger)."""
    seq, digest = Ledger(ledger).head()
    return {"seq": seq, "hash": digest}


def ledger_head_text(head: LedgerHead) -> str:
    """The content of a release's `ledger-head.json`."""
    value = {
        "about": "The project ledger's last record when this release was written; the "
        "release's own record follows it. `factory verify` checks that the ledger still "
        "holds both.",
        "ledger": "provenance/ledger.jsonl",
        "seq": head["seq"],
        "hash": head["hash"],
    }
    return json.dumps(value, indent=2) + "\n"


def read_ledger_head(release_dir: Path) -> LedgerHead | None:
    """The ledger head `release_dir` recorded; None when it has none (written without the
    ledger). Raises `LineageError` when the file is unreadable."""
    path = Path(release_dir) / LEDGER_HEAD_NAME
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        seq, digest = value["seq"], value["hash"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        msg = f"{LEDGER_HEAD_NAME} of {str(release_dir)!r} is unreadable ({exc})"
        raise LineageError(msg) from exc
    if not isinstance(seq, int) or seq < 0 or not isinstance(digest, str):
        msg = f"{LEDGER_HEAD_NAME} of {str(release_dir)!r} holds seq {seq!r}, hash {digest!r}"
        raise LineageError(msg)
    return {"seq": seq, "hash": digest}


def well_formed(records: list[Any]) -> list[dict[str, Any]]:
    """The ledger records shaped like records (the chain check names every other line)."""
    return [
        r
        for r in records
        if isinstance(r, dict) and isinstance(r.get("seq"), int) and isinstance(r.get("body"), dict)
    ]


def anchor_problems(head: LedgerHead, records: list[dict[str, Any]]) -> list[str]:
    """How the ledger `records` fall short of a release written at `head`: the ledger must
    still hold seq `head.seq` with `head.hash`, and at least one record after it."""
    seq = head["seq"]
    last = records[-1]["seq"] if records else 0
    if seq > last:
        return [
            f"the release was written when the ledger reached seq {seq}, but the ledger ends at "
            f"seq {last}: records were cut from its end"
        ]
    by_seq = {r.get("seq"): r for r in records}
    found = by_seq.get(seq, {}).get("hash") if seq else head["hash"]  # records: dicts with a seq
    if found != head["hash"]:
        return [
            f"the release was written after ledger seq {seq} with hash {head['hash'][:16]}…, "
            f"but the ledger's seq {seq} has hash {str(found)[:16]}…: the ledger was rewritten"
        ]
    if last == seq:
        return [
            f"the release was recorded after ledger seq {seq}, but the ledger ends at seq "
            f"{last}: its release record and what followed were cut from its end"
        ]
    return []


def check_release_anchors(home: Home) -> list[str]:
    """Every way the project ledger falls short of the heads its releases recorded (each
    naming the release): the check `factory lineage verify` adds to the hash chain."""
    with settled([p for p in home.releases.glob("*") if p.is_dir()]):
        return _check_anchors(home)


def _check_anchors(home: Home) -> list[str]:
    folders = sorted(p for p in home.releases.glob("*") if (p / LEDGER_HEAD_NAME).is_file())
    if not folders:
        return []
    ledger = Ledger(home.ledger)
    if not ledger.path.is_file():
        return [
            f"ledger {home.ledger} is missing, but release {folders[0].name} (and "
            f"{len(folders) - 1} more) say they were recorded in it"
        ]
    records = well_formed(ledger.records())
    problems = []
    for folder in folders:
        try:
            head = read_ledger_head(folder)
        except LineageError as exc:
            problems.append(f"release {folder.name}: {exc}")
            continue
        if head is None:
            continue
        found = anchor_problems(head, records)
        if not found and not any(
            r.get("kind") == _RELEASE
            and r["seq"] > head["seq"]
            and r["body"].get("version") == folder.name
            and r["body"].get("ledger_head") == head
            for r in records
        ):
            found = [f"the ledger holds no release record after seq {head['seq']} naming it"]
        problems += [f"release {folder.name}: {p}" for p in found]
    return problems
