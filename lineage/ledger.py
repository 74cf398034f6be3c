"""The ledger: an append-only, hash-chained JSON Lines file of what the factory did.

Each line is one record::

    {"format_version": 1, "seq": 1, "prev_hash": "000...0", "recorded_at": "2026-...+00:00",
     "kind": "materialization", "body": {...}, "hash": "<sha256>"}

`hash` is the SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of every other field;
`prev_hash` is the previous record's `hash` (64 zeros for the first); `seq` counts from 1.
Appends hold an exclusive `fcntl.flock` on the sidecar `<name>.lock`, so several processes can
append at once; each line is written with one `write`, flushed and fsynced. Reads (`verify`,
`records`, `head`) hold a shared lock, so they never see an append half done. The sidecar
`<name>.head` holds the last `seq` and `hash`, so `verify` also notices records cut from the end.
A last line without its newline is an incomplete write (a crash while appending), not tampering:
`verify` says so, appends refuse to go on, and `repair` cuts it and records a `repair` record.
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
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.locks import file_lock
from lineage.errors import LineageError
from lineage.secrets import ensure_no_secrets

__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "REPAIR_KIND",
    "Ledger",
    "VerifyResult",
    "parse_jsonl",
    "read_jsonl",
    "record_hash",
]

FORMAT_VERSION = 1
GENESIS_HASH = "0" * 64
REPAIR_KIND = "repair"
"""The kind of the record `Ledger.repair` appends after cutting an incomplete last line."""
_REPAIR_HINT = "run `factory lineage repair` (Ledger.repair()) to cut it and record the repair"
_KIND = re.compile(r"^[a-z][a-z0-9_.\-]*$")
_FIELDS = ("format_version", "seq", "prev_hash", "recorded_at", "kind", "body", "hash")


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of `Ledger.verify`: ok, one line per problem (naming the seq), records read, and
    an incomplete last write (a crash, not tampering; `Ledger.repair` cuts it)."""

    ok: bool
    problems: list[str] = field(default_factory=list)
    records: int = 0
    incomplete: str | None = None


def parse_jsonl(lines: Iterable[str], where: str, hint: str) -> Iterator[tuple[str, Any]]:
    """Each non-blank line of `lines`, without its newline, and its value.

    A line that is not JSON raises a `LineageError` naming `where` (what and which file) and the
    line number, followed by `hint` (what to do about it).
    """
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            msg = f"line {number} of {where} is not JSON ({exc}); {hint}"
            raise LineageError(msg) from exc
        yield line.rstrip("\n"), value


def read_jsonl(path: Path, what: str, hint: str) -> Iterator[tuple[str, Any]]:
    """`parse_jsonl` over the JSON Lines file `path`, `what` naming it in errors."""
    with Path(path).open("r", encoding="utf-8") as fh:
        yield from parse_jsonl(fh, f"{what} {path}", hint)


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
        with file_lock(self.lock_path):
            yield

    @contextlib.contextmanager
    def _shared(self) -> Iterator[None]:
        """A shared lock while reading; none where the lock file cannot be made (a read-only
        copy, which nobody appends to)."""
        with contextlib.ExitStack() as stack:
            with contextlib.suppress(OSError):
                stack.enter_context(file_lock(self.lock_path, shared=True))
            yield

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
                    f"refusing to append: {_REPAIR_HINT}"
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
            return self._append_locked(kind, body)

    def _append_locked(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        seq, prev = self._head_locked()
        seq += 1
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

    def _head_locked(self) -> tuple[int, str]:
        last = self._last_line()
        if last is None:
            return 0, GENESIS_HASH
        try:
            previous = json.loads(last)
            return int(previous["seq"]), str(previous["hash"])
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"the last record of ledger {self.path} is unreadable ({exc}); run verify()"
            raise LineageError(msg) from exc

    def head(self) -> tuple[int, str]:
        """The seq and hash of the last record; (0, GENESIS_HASH) for an empty or absent ledger.

        Raises `LineageError` on an incomplete last line (repair it first).
        """
        if not self.path.exists():
            return 0, GENESIS_HASH
        with self._shared():
            return self._head_locked()

    def _write_head(self, seq: int, digest: str) -> None:
        tmp = self.head_path.with_name(self.head_path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"seq": seq, "hash": digest}) + "\n", encoding="utf-8")
        os.replace(tmp, self.head_path)

    def _complete_bytes(self) -> bytes:
        """The file up to its last newline: an incomplete last write is no record."""
        raw = self.path.read_bytes()
        return raw[: raw.rfind(b"\n") + 1]

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every record in order (only those of `kind` when given); raises on an unreadable line.
        An incomplete last line (a crash while appending) is not a record and is left out."""
        if not self.path.exists():
            return []
        with self._shared():
            raw = self._complete_bytes()
        records = parse_jsonl(_lines(raw), f"ledger {self.path}", "run verify()")
        return [record for _, record in records if kind is None or record.get("kind") == kind]

    def verify(self) -> VerifyResult:
        """Recompute every hash and link; each problem names the seq it concerns."""
        if not self.path.exists():
            return VerifyResult(ok=True, problems=[], records=0)
        with self._shared():
            return self._verify_locked()

    def _verify_locked(self) -> VerifyResult:
        head = self._read_head()  # before the records: a head read first never runs ahead
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        problems: list[str] = []
        prev_seq, prev_hash = 0, GENESIS_HASH
        hashes: dict[int, str] = {}
        count = 0
        for number, line in enumerate(_lines(complete), 1):
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
        problems.extend(self._check_head(head, prev_seq, hashes))
        incomplete = None
        if len(complete) < len(raw):
            incomplete = (
                f"incomplete write: the last line ({len(raw) - len(complete)} bytes after seq "
                f"{prev_seq}) has no newline, as a crash while appending leaves it; {_REPAIR_HINT}"
            )
        ok = not problems and incomplete is None
        return VerifyResult(ok=ok, problems=problems, records=count, incomplete=incomplete)

    def _read_head(self) -> tuple[int, str] | str | None:
        """The head file's seq and hash, a problem when it is unreadable, None when absent."""
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(head["seq"]), str(head["hash"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return f"head file {self.head_path.name} is unreadable"

    def repair(self) -> dict[str, Any] | None:
        """Cut an incomplete last line (a crash while appending), keep its bytes beside the
        ledger (`<name>.torn-<sha256 prefix>`) and append a `repair` record saying so; None when
        nothing needed repair. Refuses (`LineageError`) a ledger with any other problem."""
        with self._locked():
            if not self.path.exists():
                return None
            result = self._verify_locked()
            if result.problems:
                msg = (
                    f"cannot repair ledger {self.path}: a repair only cuts an incomplete last "
                    f"line, and the ledger has other problems: {'; '.join(result.problems)}; "
                    "restore it from a backup"
                )
                raise LineageError(msg)
            if result.incomplete is None:
                return None
            raw = self.path.read_bytes()
            keep = raw.rfind(b"\n") + 1
            torn = raw[keep:]
            digest = hashlib.sha256(torn).hexdigest()
            saved = self.path.with_name(f"{self.path.name}.torn-{digest[:12]}")
            saved.write_bytes(torn)
            with self.path.open("r+b") as fh:
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            after, _ = self._head_locked()
            body = {
                "action": "cut an incomplete last line (a crash while appending)",
                "after_seq": after,
                "removed_bytes": len(torn),
                "removed_sha256": digest,
                "saved_to": saved.name,
            }
            return self._append_locked(REPAIR_KIND, body)

    @staticmethod
    def _check_head(
        head: tuple[int, str] | str | None, last_seq: int, hashes: dict[int, str]
    ) -> list[str]:
        if head is None:
            return []
        if isinstance(head, str):
            return [head]
        head_seq, head_hash = head
        if head_seq > last_seq:
            gone = list(range(last_seq + 1, head_seq + 1))
            return [f"seq {_span(gone)} missing at the end (the head records seq {head_seq})"]
        if hashes.get(head_seq) != head_hash:
            return [f"seq {head_seq}: hash differs from the one recorded in the head file"]
        return []


def _lines(complete: bytes) -> list[str]:
    """The lines of `complete` (bytes ending in a newline), split on b"\\n" only: str.splitlines
    would also split inside a record at U+0085 or U+2028, which JSON leaves unescaped."""
    return [line.decode("utf-8", errors="replace") for line in complete.split(b"\n")[:-1]]


def _span(seqs: list[int]) -> str:
    return str(seqs[0]) if len(seqs) == 1 else f"{seqs[0]}-{seqs[-1]}"
