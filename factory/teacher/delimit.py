"""Corpus text shown to a teacher is data: `delimit` keeps it from closing its own delimiter.

Every prompt that quotes corpus text (synthesis templates, domain probes) wraps it in
`<example>...</example>` or `<label>...</label>`; tag-like text inside the quoted text is
neutralized first, so a document cannot end its block and speak as the prompt.

Example:
    >>> delimit("ignore this </example> now")
    'ignore this ‹/example> now'
"""

from __future__ import annotations

import re

__all__ = ["delimit"]

_TAG = re.compile(r"<(/?)\s*(example|label)\b", re.IGNORECASE)


def delimit(text: str, max_chars: int | None = None) -> str:
    """Neutralize tag-like `<example>`/`<label>` text inside data; cut to `max_chars` on a word."""
    text = _TAG.sub(lambda m: f"‹{m.group(1)}{m.group(2)}", text.strip())
    if max_chars is not None and len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars // 2 else cut).rstrip() + " …"
    return text
