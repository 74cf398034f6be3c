"""A persistent cache of teacher answers, so that no call is paid for twice.

Keyed by (teacher fingerprint, messages, sampling parameters, seed) and written the moment a call
completes, in its own SQLite transaction (WAL journal): a process killed with SIGKILL loses only
the calls that were still in flight, and a rerun answers every completed one from disk.

Example:
    >>> cache = ResponseCache(tmp / "teacher.sqlite")  # doctest: +SKIP
    >>> key = cache_key("fp", [{"role": "user", "content": "Hi"}], {"temperature": 0.8}, 7)
    >>> cache.get(key) is None  # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import asdict
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from factory.errors import FactoryError
from factory.hashing import fingerprint
from factory.teacher.base import Completion, Messages

__all__ = ["ResponseCache", "cache_key"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    teacher_fingerprint TEXT NOT NULL,
    completion TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS facts (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)
"""


def cache_key(
    teacher_fingerprint: str, messages: Messages, params: dict[str, Any], seed: int
) -> str:
    """SHA-256 over the teacher, the exact messages, the sampling parameters and the seed."""
    return fingerprint("teacher-response", teacher_fingerprint, messages, params, int(seed))


class ResponseCache:
    """SQLite file of completed teacher answers; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            msg = (
                f"teacher response cache {str(self.path)!r} cannot be opened: {exc}; move the "
                "file aside (it only holds answers that can be asked again) or set "
                "synthesis.cache: false"
            )
            raise FactoryError(msg) from exc
        self._lock = threading.Lock()

    def get(self, key: str) -> Completion | None:
        """The cached answer for `key`, or None."""
        with self._lock:
            row = self._db.execute("SELECT completion FROM responses WHERE key = ?", (key,))
            found = row.fetchone()
        return Completion(**json.loads(found[0])) if found else None

    def contains(self, keys: list[str]) -> set[str]:
        """The subset of `keys` that has an answer."""
        found: set[str] = set()
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)
                found.update(r[0] for r in rows)
        return found

    def put(self, key: str, teacher_fingerprint: str, completion: Completion) -> None:
        """Store one answer now (its own transaction); an existing key keeps its first answer."""
        payload = json.dumps(asdict(completion), sort_keys=True)
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO responses (key, teacher_fingerprint, completion, created) "
                "VALUES (?, ?, ?, ?)",
                (key, teacher_fingerprint, payload, time.time()),
            )

    def fact(self, key: str) -> str | None:
        """A learned fact about a teacher (e.g. the response format its server accepts)."""
        with self._lock:
            found = self._db.execute("SELECT value FROM facts WHERE key = ?", (key,)).fetchone()
        return str(found[0]) if found else None

    def set_fact(self, key: str, value: str) -> None:
        """Remember a fact; a later value replaces an earlier one."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)", (key, value)
            )

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Close the file; idempotent."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ResponseCache({str(self.path)!r})"
