"""Text encodings of source files: UTF-8, or UTF-8, UTF-16 or UTF-32 with a byte-order mark.

A file is read by its byte-order mark (BOM); without one it is UTF-8. A file without a BOM whose
bytes are mostly NUL is UTF-16 or UTF-32 without a BOM (or not text at all): it is refused with
the fix (save it as UTF-8) rather than read as garbage. Lines break at `\\n`, `\\r\\n` or `\\r`;
a line that does not decode is reported on its own, so one bad line never hides the others.

Example:
    >>> [(n, text) for n, text, _ in decoded_lines("a\\nb".encode("utf-16"))]
    [(1, 'a\\n'), (2, 'b')]
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator

__all__ = [
    "bom_codec",
    "decode_document",
    "decoded_lines",
    "looks_like_utf16_without_bom",
    "undecodable_reason",
]

# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_NAMES = {"utf-8": "UTF-8", "utf-16-le": "UTF-16", "utf-16-be": "UTF-16"}
_NAMES |= {"utf-32-le": "UTF-32", "utf-32-be": "UTF-32"}

Line = tuple[int, str | None, str]
"""(1-based line number, its text or None when it does not decode, the text shown for it)."""


def bom_codec(data: bytes) -> tuple[str, int]:
    """The codec `data` is in and the length of its byte-order mark: ("utf-8", 0) without one."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec, len(bom)
    return "utf-8", 0


def looks_like_utf16_without_bom(data: bytes) -> bool:
    """True when a file without a BOM is at least 30% NUL bytes: UTF-16/32 text or binary."""
    if bom_codec(data)[1]:
        return False
    head = data[:4096]
    return bool(head) and head.count(0) >= 0.3 * len(head)


def undecodable_reason(codec: str) -> str:
    """The quarantine reason for a line or file that does not decode as `codec`."""
    return f"undecodable: not valid {_NAMES[codec]}"


def decode_document(data: bytes) -> tuple[str | None, str]:
    """(the text, or None when it does not decode, the reason) for a whole file as one document."""
    if looks_like_utf16_without_bom(data):
        return None, "undecodable: UTF-16 without a byte-order mark or binary; save as UTF-8"
    codec, skip = bom_codec(data)
    try:
        return data[skip:].decode(codec), ""
    except UnicodeDecodeError:
        return None, undecodable_reason(codec)


def decoded_lines(data: bytes) -> Iterator[Line]:
    """Every physical line of `data`, decoded by its BOM; lines that do not decode give None."""
    codec, skip = bom_codec(data)
    data = data[skip:]
    if codec == "utf-8":
        for number, raw in enumerate(data.splitlines(keepends=True), start=1):
            yield _decoded(number, raw, codec)
        return
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        for number, raw in enumerate(_unit_lines(data, codec), start=1):
            yield _decoded(number, raw, codec)
        return
    for number, match in enumerate(_LINE.finditer(text), start=1):
        yield number, match.group(), match.group()


def _decoded(number: int, raw: bytes, codec: str) -> Line:
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return number, None, raw.decode(codec, "replace")
    return number, text, text


def _unit_lines(data: bytes, codec: str) -> Iterator[bytes]:
    """The lines of UTF-16/32 `data` split at whole code units, so one bad unit spoils one line."""
    size = 4 if codec.startswith("utf-32") else 2
    newline, carriage = "\n".encode(codec), "\r".encode(codec)
    start = i = 0
    while i + size <= len(data):
        unit = data[i : i + size]
        i += size
        if unit == carriage and data[i : i + size] == newline:
            i += size
        if unit in (newline, carriage):
            yield data[start:i]
            start = i
    if start < len(data):
        yield data[start:]
