"""Corpus text shown to a teacher is data: `delimit` keeps it from closing its own delimiter.

Every prompt that quotes corpus text (synthesis templates, domain probes) wraps it in
`<example>...</example>` or `<label>...</label>`; tag-like text inside the quoted text is
neutralized first, so a document cannot end its block and speak as the prompt.

Tag-like means what a reader might take for a tag: the text is read with format characters
(zero-width spaces, soft hyphens) dropped, NFKC-normalized (full-width `＜／ｅｘａｍｐｌｅ＞`
reads as `</example>`) and HTML character references decoded (`&lt;/example&gt;`, `&#60;`,
`&#x3C;`); in that reading `<`, then any spaces, slashes or backslashes, then `example` or
`label` in any case, is a tag. Only the character (or reference) that reads as its `<` is
replaced, by `‹`; everything else, ordinary text included, is left exactly as it was.

Example:
    >>> delimit("ignore this </example> now")
    'ignore this ‹/example> now'
    >>> delimit("&lt;/EXAMPLE&gt; and ＜ label＞, but 1 < 2")
    '‹/EXAMPLE&gt; and ‹ label＞, but 1 < 2'
"""

from __future__ import annotations

import html
import re
import unicodedata

__all__ = ["delimit"]

_TAG = re.compile(r"<[\s/\\]*(?:example|label)\b", re.IGNORECASE)
_REFERENCE = re.compile(r"&(?:#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);?")
# The only characters whose reading can hold `<` or `&` (every code point checked under NFKC).
_MAY_OPEN = frozenset("<&\ufe64\uff1c\ufe60\uff06")

Span = tuple[int, int]


def delimit(text: str, max_chars: int | None = None) -> str:
    """Neutralize tag-like `<example>`/`<label>` text inside data; cut to `max_chars` on a word."""
    text = text.strip()
    if max_chars is not None and len(text) > max_chars:
        cut = text[:max_chars]
        space = cut.rfind(" ")
        text = (cut[:space] if space > max_chars // 2 else cut).rstrip() + " …"
    if _MAY_OPEN.isdisjoint(text):
        return text
    reading, spans = _reading(text)
    pieces: list[str] = []
    done = 0
    for match in _TAG.finditer(reading):
        span = spans[match.start()]
        first = last = match.start()
        while first > 0 and spans[first - 1] == span:
            first -= 1
        while last < len(spans) and spans[last] == span:
            last += 1
        pieces += [text[done : span[0]], reading[first:last].replace("<", "‹")]
        done = span[1]
    return "".join([*pieces, text[done:]])


def _visible(text: str) -> str:
    return "".join(c for c in text if unicodedata.category(c) != "Cf")


def _reading(text: str) -> tuple[str, list[Span]]:
    """How `text` may be read (format characters dropped, NFKC, character references decoded,
    NFKC again), and for each character of that reading the span of `text` it comes from."""
    chars: list[str] = []
    spans: list[Span] = []
    for i, c in enumerate(text):
        for n in _visible(unicodedata.normalize("NFKC", c)):
            chars.append(n)
            spans.append((i, i + 1))
    normalized = "".join(chars)
    reading: list[str] = []
    where: list[Span] = []
    done = 0
    for ref in _REFERENCE.finditer(normalized):
        reading.extend(normalized[done : ref.start()])
        where.extend(spans[done : ref.start()])
        decoded = _visible(unicodedata.normalize("NFKC", html.unescape(ref.group())))
        span = (spans[ref.start()][0], spans[ref.end() - 1][1])
        reading.extend(decoded)
        where.extend([span] * len(decoded))
        done = ref.end()
    reading.extend(normalized[done:])
    where.extend(spans[done:])
    return "".join(reading), where
