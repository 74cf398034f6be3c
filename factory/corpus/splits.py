"""Deterministic train / validation / test assignment from `doc_id`."""

from __future__ import annotations

import hashlib

from factory.config import SplitConfig

__all__ = ["SPLITS", "assign_split", "normalize_split_name"]

SPLITS = ("train", "validation", "test")
_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
    "testing": "test",
}


def assign_split(doc_id: str, splits: SplitConfig) -> str:
    """Split of a document: a salted hash of `doc_id` mapped to [0, 1) against the shares.

    Example:
        >>> assign_split("ab" * 32, SplitConfig()) in SPLITS
        True
    """
    digest = hashlib.sha256(f"{splits.salt}:{doc_id}".encode()).digest()
    u = int.from_bytes(digest[:8], "big") / 2**64
    if u < splits.test:
        return "test"
    if u < splits.test + splits.validation:
        return "validation"
    return "train"


def normalize_split_name(value: object) -> str | None:
    """Map a user's split value (train, val, dev, test, ...) to a split name, or None."""
    if value is None:
        return None
    return _ALIASES.get(str(value).strip().lower())
