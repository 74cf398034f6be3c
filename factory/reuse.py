"""A layer's result kept under the fingerprint of everything it was computed from.

A run with nothing changed finds each costly layer's result here and skips the work: the map's
projection, the synthesis (no teacher started, nothing re-embedded), the student's evaluation.
The key is the caller's fingerprint of code version, parameters, models and input content, so a
stored result is exactly what recomputing would give (the teacher answers come from its response
cache either way). An entry is a folder `HOME/cache/<layer>/<key>/` of Parquet frames and one
JSON file of facts, published by one rename: a reader sees a whole entry or none. The newest
`keep` entries of a layer stay; older ones are removed when a new one is saved.

Example:
    >>> store = ResultStore(home.cache, "map")  # doctest: +SKIP
    >>> store.save(key, {"semantic_map": frame}, {"noise_share": 0.2})  # doctest: +SKIP
    >>> store.load(key).facts["noise_share"]  # doctest: +SKIP
    0.2
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

__all__ = ["ResultStore", "StoredResult"]

_FACTS = "facts.json"


@dataclass(frozen=True)
class StoredResult:
    """One stored layer result: its frames by name and its JSON facts."""

    frames: dict[str, pl.DataFrame]
    facts: dict[str, Any]


class ResultStore:
    """The stored results of one layer, by key, under `cache_dir/<layer>/`."""

    def __init__(self, cache_dir: Path, layer: str, keep: int = 8) -> None:
        if keep < 1:
            msg = f"keep must be at least 1 (the entry just saved), got {keep}"
            raise ValueError(msg)
        self.folder = Path(cache_dir) / layer
        self.keep = keep

    def load(self, key: str) -> StoredResult | None:
        """The result stored under `key`, or None (never stored, or unreadable)."""
        entry = self.folder / key
        facts_path = entry / _FACTS
        if not facts_path.is_file():
            return None
        try:
            facts = json.loads(facts_path.read_text(encoding="utf-8"))
            frames = {p.stem: pl.read_parquet(p) for p in sorted(entry.glob("*.parquet"))}
        except (OSError, ValueError, pl.exceptions.PolarsError):
            return None  # a damaged entry is recomputed, and replaced when saved
        os.utime(entry)  # recently used entries outlive the pruning
        return StoredResult(frames, facts)

    def save(self, key: str, frames: dict[str, pl.DataFrame], facts: dict[str, Any]) -> None:
        """Store `frames` and `facts` under `key` (replacing an entry of the same key)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        staging = self.folder / f".{key}.{uuid.uuid4().hex[:8]}.tmp"
        staging.mkdir()
        try:
            for name, frame in frames.items():
                frame.write_parquet(staging / f"{name}.parquet")
            (staging / _FACTS).write_text(json.dumps(facts, sort_keys=True), encoding="utf-8")
            entry = self.folder / key
            if entry.exists():
                shutil.rmtree(entry)
            staging.rename(entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self._prune()

    def _prune(self) -> None:
        entries = [p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".")]
        entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[self.keep :]:
            shutil.rmtree(old, ignore_errors=True)
