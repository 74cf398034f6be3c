"""PII in texts: find and redact e-mail addresses, phone numbers, IBANs and payment card numbers.

Matching is by pattern plus checksum where one exists: an IBAN must pass ISO 13616 mod-97 and its
country's length, a card number the Luhn check. Phone numbers are international (`+` and 8-15
digits) or national 10-11 digit numbers in a common layout; amounts, dates, times, years and
short codes are not phone numbers. Where spans overlap the more specific kind wins:
iban > card > email > phone.

Example:
    >>> redact_pii("Mail jo@example.com or call +44 20 7946 0958, IBAN GB82 WEST 1234 5698 7654 32")
    'Mail [EMAIL] or call [PHONE], IBAN [IBAN]'
    >>> pii_kinds(["card 4111 1111 1111 1111", "card ending in 1234", None])
    [('card',), (), ()]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "NOT_DETECTED",
    "PII_KINDS",
    "SCAN_METHOD",
    "PiiMatch",
    "find_pii",
    "pii_counts",
    "pii_kinds",
    "redact_pii",
    "scan_texts",
]

PII_KINDS = ("card", "email", "iban", "phone")
SCAN_METHOD = (
    "pattern matching with checksums (checks.privacy), run when the release was written: e-mail "
    "addresses, phone numbers, IBANs (ISO 13616 mod-97) and payment card numbers (Luhn)"
)
"""How `scan_texts` finds personal data, in the words a release report uses."""
NOT_DETECTED = (
    "personal data other than the four kinds above: names, postal addresses, dates of birth and "
    "identity numbers are not detected"
)
"""What `scan_texts` cannot find, in the words a release report uses."""
_PRECEDENCE = ("iban", "card", "email", "phone")
_PLACEHOLDER = {kind: f"[{kind.upper()}]" for kind in PII_KINDS}

# ISO 13616 lengths of the SEPA countries and a few other common ones.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18, "FO": 18,
    "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23,
    "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TR": 26, "UA": 29, "VA": 22,
}  # fmt: skip

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)
# Compact, or spaced in groups of four (the last group may be shorter).
_IBAN = re.compile(
    r"(?<![\w-])[A-Za-z]{2}\d{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,3})?)(?![\w-])"
)
# A maximal run of digits joined by single spaces or hyphens; the run is a card or nothing.
_DIGIT_RUN = re.compile(r"(?<![\w.,/:-])(?>\d+(?:[ -]\d+)*)(?![\w/:-]|[.,]\d)")
_PHONE = re.compile(
    r"(?<![\w+.,/:-])(?:"
    r"\+\(?\d(?:(?:[ .-]|[ ]?[()][ ]?)?\d){7,14}"  # international: + and 8-15 digits
    r"|(?:1[ .-]?)?(?:\(\d{3}\)[ ]?|\d{3}[ .-])\d{3}[ .-]\d{4}"  # NANP: (555) 123-4567
    r"|0\d{2}[ ]\d{4}[ ]\d{4}"  # UK: 020 7946 0958
    r"|0\d{3}[ ]\d{3}[ ]\d{4}"  # UK: 0161 496 0000
    r"|0\d{4}[ ]\d{3}[ ]?\d{3}"  # UK: 07700 900123, 07700 900 123
    r")(?![\w/:-]|[.,]\d)"
)


@dataclass(frozen=True)
class PiiMatch:
    """One PII span: `text[start:end]` is of `kind`, one of PII_KINDS."""

    kind: str
    start: int
    end: int


def _iban_valid(compact: str) -> bool:
    code = compact.upper()
    expected = _IBAN_LENGTHS.get(code[:2])
    if expected is None:
        if not 15 <= len(code) <= 34:
            return False
    elif len(code) != expected:
        return False
    digits = "".join(str(int(c, 36)) for c in code[4:] + code[:4])
    return int(digits) % 97 == 1


def _luhn_valid(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_spans(text: str) -> Iterable[tuple[int, int]]:
    for m in _IBAN.finditer(text):
        # A spaced IBAN may run into an unrelated group: try each group boundary, longest first.
        cuts = [m.end()] + [m.start() + i for i in range(m.end() - m.start()) if m[0][i] == " "]
        for cut in sorted(cuts, reverse=True):
            if _iban_valid(text[m.start() : cut].replace(" ", "")):
                yield m.start(), cut
                break


def _card_spans(text: str) -> Iterable[tuple[int, int]]:
    for m in _DIGIT_RUN.finditer(text):
        run = m[0]
        if " " in run and "-" in run:
            continue
        digits = run.replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and _luhn_valid(digits):
            yield m.span()


def _candidates(text: str) -> dict[str, list[tuple[int, int]]]:
    return {
        "iban": list(_iban_spans(text)),
        "card": list(_card_spans(text)),
        "email": [m.span() for m in _EMAIL.finditer(text)],
        "phone": [m.span() for m in _PHONE.finditer(text)],
    }


def find_pii(text: str | None) -> list[PiiMatch]:
    """Non-overlapping PII spans in `text` by start; where spans overlap the specific kind wins."""
    if not text:
        return []
    found = _candidates(text)
    kept: list[PiiMatch] = []
    for kind in _PRECEDENCE:
        for start, end in found[kind]:
            if all(end <= k.start or start >= k.end for k in kept):
                kept.append(PiiMatch(kind, start, end))
    return sorted(kept, key=lambda m: m.start)


def redact_pii(text: str | None) -> str | None:
    """`text` with each PII span replaced by `[EMAIL]`, `[PHONE]`, `[IBAN]` or `[CARD]`."""
    if text is None:
        return None
    parts: list[str] = []
    last = 0
    for m in find_pii(text):
        parts += [text[last : m.start], _PLACEHOLDER[m.kind]]
        last = m.end
    parts.append(text[last:])
    return "".join(parts)


def pii_kinds(texts: Iterable[str | None]) -> list[tuple[str, ...]]:
    """Per text, the sorted distinct PII kinds found in it; `()` when none."""
    return [tuple(sorted({m.kind for m in find_pii(t)})) for t in texts]


def pii_counts(texts: Iterable[str | None]) -> dict[str, int]:
    """PII matches per kind over all texts; every kind of PII_KINDS is present."""
    counts = dict.fromkeys(PII_KINDS, 0)
    for text in texts:
        for m in find_pii(text):
            counts[m.kind] += 1
    return counts


def scan_texts(texts: list[str | None]) -> tuple[int, dict[str, int]]:
    """(texts with any PII, matches per kind) over `texts`."""
    return sum(bool(kinds) for kinds in pii_kinds(texts)), pii_counts(texts)
