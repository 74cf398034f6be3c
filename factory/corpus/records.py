"""What a source reader yields: one raw row, either readable fields or a rejection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["RawRecord"]

RAW_LIMIT = 10_000


@dataclass(frozen=True)
class RawRecord:
    """One row as read from a source; `reason` is set when the reader already rejected it."""

    source_uri: str
    line: int | None
    fields: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None
    raw: str = ""

    @classmethod
    def rejected(cls, source_uri: str, line: int | None, reason: str, raw: str) -> RawRecord:
        """A row the reader could not turn into fields."""
        return cls(source_uri, line, {}, reason, raw[:RAW_LIMIT])
