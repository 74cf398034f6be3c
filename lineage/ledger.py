"""The ledger: an append-only, hash-chained JSON Lines file of what the factory did.

Each line is one record::

    {"format_version": 1, "seq": 1, "prev_hash": "000...0", "recorded_at": "2026-...+00:00",
     "kind": "materialization", "body": {...}, "hash": "<sha256>"}

`hash` is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of every other field;
`prev_hash` is the previous record's `hash` (64 zeros for the first); `seq` counts from 1.
Appends hold an exclusive `fcntl.flock` on the sidecar `<name>.lock`, so several processes can
append at once; each line is written with one `write`, flushed and fsynced. The sidecar
`<name>.head` holds the last `seq` and `hash`, so `verify` also notices records cut from the end.
Bodies must be plain JSON (dict, list, str, int, finite float, bool, None) and free of secrets.

Example:
    >>> import tempfile
    >>> ledger = Ledger(Path(tempfile.mkdtemp()) / "ledger.jsonl")
    >>> ledger.append("materialization", {"asset": "corpus_documents", "rows": 400})["seq"]
    1
    >>> ledger.verify().ok
    True
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lineage.errors import LineageError
from lineage.secrets import ensure_no_secrets

__all__ = ["FORMAT_VERSION", "GENESIS_HASH", "Ledger", "VerifyResult", "read_jsonl", "record_hash"]

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
_KIND = re.compile(r"^[a-z][a-z0-9_.\-]*$")
_FIELDS = ("format_version", "seq", "prev_hash", "recorded_at", "kind", "body", "hash")


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `Ledger.verify`: ok, one line per problem (naming the seq), records read."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    records: int = 0


def read_jsonl(path: Path, what: str, hint: str) -> Iterator[tuple[str, Any]]:
    """Each non-blank line of the JSON Lines file `path`, without its newline, and its value.

    A line that is not JSON raises a `LineageError` naming `what`, the file and the line number,
    followed by `hint` (what to do about it).
    """
    with Path(path).open("r", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as exc:
                msg = f"line {number} of {what} {path} is not JSON ({exc}); {hint}"
                raise LineageError(msg) from exc
            yield line.rstrip("\n"), value


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of `record` without its `hash` field."""
    content = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(_canonical_json(content).encode("utf-8")).hexdigest()


def _check_plain_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            msg = (
                f"{where} is {value!r}; ledger bodies hold finite numbers only: store null instead"
            )
            raise LineageError(msg)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                msg = f"{where} has a non-string key {key!r}; use string keys"
                raise LineageError(msg)
            _check_plain_json(item, f"{where}.{key}")
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain_json(item, f"{where}[{i}]")
        return
    msg = (
        f"{where} is a {type(value).__name__} ({value!r}); ledger bodies hold plain JSON: "
        "convert it first (paths with str(), timestamps with .isoformat(), arrays with .tolist())"
    )
    raise LineageError(msg)


class Ledger:
    """Append-only, hash-chained JSON Lines record of runs, materializations and publications."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @property
    def lock_path(self) -> Path:
        """The sidecar lock file appends hold."""
        return self.path.with_name(self.path.name + ".lock")

    @property
    def head_path(self) -> Path:
        """The sidecar file holding the last seq and hash."""
        return self.path.with_name(self.path.name + ".head")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _last_line(self) -> bytes | None:
        if not self.path.exists():
            return None
        with self.path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            end = fh.tell()
            if end == 0:
                return None
            fh.seek(end - 1)
            if fh.read(1) != b"\n":
                msg = (
                    f"the last line of ledger {self.path} is incomplete (a crash while writing?); "
                    "refusing to append: run Ledger.verify() and repair the file by hand"
                )
                raise LineageError(msg)
            pos, buf = end - 1, b""  # buf holds bytes [pos, end - 1): the last line so far
            while pos > 0:
                step = min(4096, pos)
                pos -= step
                fh.seek(pos)
                buf = fh.read(step) + buf
                cut = buf.rfind(b"\n")
                if cut != -1:
                    return buf[cut + 1 :]
            return buf

    def append(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """Write one record (under an exclusive lock) and return it, `hash` included."""
        if not isinstance(kind, str) or not _KIND.match(kind):
            msg = f"ledger kind {kind!r} is invalid; use lower-case words like 'materialization'"
            raise LineageError(msg)
        if not isinstance(body, dict):
            msg = f"ledger body must be a dict, got {type(body).__name__}"
            raise LineageError(msg)
        _check_plain_json(body, "body")
        ensure_no_secrets(body, "body")
        with self._locked():
            last = self._last_line()
            if last is None:
                seq, prev = 1, GENESIS_HASH
            else:
                try:
                    previous = json.loads(last)
                    seq, prev = int(previous["seq"]) + 1, str(previous["hash"])
                except (ValueError, KeyError, TypeError) as exc:
                    msg = (
                        f"the last record of ledger {self.path} is unreadable ({exc}); run verify()"
                    )
                    raise LineageError(msg) from exc
            record: dict[str, Any] = {
                "format_version": FORMAT_VERSION,
                "seq": seq,
                "prev_hash": prev,
                "recorded_at": datetime.now(UTC).isoformat(timespec="microseconds"),
                "kind": kind,
                "body": json.loads(_canonical_json(body)),
            }
            record["hash"] = record_hash(record)
            line = (_canonical_json(record) + "\n").encode("utf-8")
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                written = os.write(fd, line)
                if written != len(line):
                    msg = f"short write to ledger {self.path}: {written} of {len(line)} bytes"
                    raise LineageError(msg)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._write_head(seq, record["hash"])
        return record

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_name(self.head_path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n", encoding="utf-8")
        os.replace(tmp, self.head_path)

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every record in order (only those of `kind` when given); raises on an unreadable line."""
        if not self.path.exists():
            return []
        records = (record for _, record in read_jsonl(self.path, "ledger", "run verify()"))
        return [r for r in records if kind is None or r.get("kind") == kind]

    def verify(self) -> VerifyResult:
        """Recompute every hash and link; each problem names the seq it concerns."""
        if not self.path.exists():
            return VerifyResult(ok=True, problems=[], records=0)
        problems: list[str] = []
        prev_seq, prev_hash = 0, GENESIS_HASH
        hashes: dict[int, str] = {}
        count = 0
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):
            problems.append("the last line is incomplete (no newline at the end)")
        for number, line in enumerate(raw.decode("utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                problems.append(f"line {number} is blank (after seq {prev_seq})")
                continue
            try:
                record = json.loads(line)
            except ValueError:
                problems.append(f"line {number} (after seq {prev_seq}) is not valid JSON")
                continue
            count += 1
            if not isinstance(record, dict) or sorted(record) != sorted(_FIELDS):
                fields = sorted(record) if isinstance(record, dict) else type(record).__name__
                problems.append(f"line {number} (after seq {prev_seq}) has fields {fields}")
                continue
            seq = record["seq"]
            if record["format_version"] != FORMAT_VERSION:
                problems.append(f"seq {seq}: unknown format_version {record['format_version']!r}")
            if not isinstance(seq, int):
                problems.append(f"line {number}: seq {seq!r} is not an integer")
                continue
            if seq != prev_seq + 1:
                if seq > prev_seq + 1:
                    gone = list(range(prev_seq + 1, seq))
                    problems.append(f"seq {_span(gone)} missing before seq {seq} (record removed)")
                else:
                    problems.append(f"seq {seq} (line {number}) out of order after seq {prev_seq}")
            if record_hash(record) != record["hash"]:
                problems.append(f"seq {seq}: hash does not match its content (record edited)")
            if record["prev_hash"] != prev_hash:
                problems.append(
                    f"seq {seq}: prev_hash does not match the hash of seq {prev_seq} "
                    "(a record before it was edited, removed or inserted)"
                )
            hashes[seq] = record["hash"]
            prev_seq, prev_hash = seq, record["hash"]
        problems.extend(self._check_head(prev_seq, hashes))
        return VerifyResult(ok=not problems, problems=problems, records=count)

    def _check_head(self, last_seq: int, hashes: dict[int, str]) -> list[str]:
        if not self.head_path.exists():
            return []
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            head_seq, head_hash = int(head["seq"]), str(head["hash"])
        except (ValueError, KeyError, TypeError):
            return [f"head file {self.head_path.name} is unreadable"]
        if head_seq > last_seq:
            gone = list(range(last_seq + 1, head_seq + 1))
            return [f"seq {_span(gone)} missing at the end (the head records seq {head_seq})"]
        if hashes.get(head_seq) != head_hash:
            return [f"seq {head_seq}: hash differs from the one recorded in the head file"]
        return []


def _span(seqs: list[int]) -> str:
    return str(seqs[0]) if len(seqs) == 1 else f"{seqs[0]}-{seqs[-1]}"
