"""Text normalization: Unicode NFC, unified newlines, collapsed horizontal whitespace."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize_text", "text_key"]

_HSPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalize_text(text: str) -> str:
    """NFC, `\\r\\n` -> `\\n`, control characters dropped, runs of spaces/tabs collapsed, trimmed.

    Paragraph breaks survive (at most one blank line), so documentation keeps its shape.

    Example:
        >>> normalize_text("  Cafe\\u0301   au\\tlait \\r\\n")
        'Café au lait'
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_HSPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def text_key(text: str) -> str:
    """The form two texts are compared in for exact copies: normalized and case-folded."""
    return normalize_text(text).casefold()
