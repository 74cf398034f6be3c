"""Language identification of texts with py3langid (its model ships inside the wheel).

Codes are ISO 639-1 where the language has one ("en", "de"), else the model's ISO 639-3 code
("yue"). Texts with fewer than 3 letters, and texts the model finds no language in, get None.

Example:
    >>> detect_languages(["I want to top up my card.", "Ich möchte meine Karte aufladen.", ""])
    ['en', 'de', None]
    >>> dominant_language(["en", "de", "en", None])
    'en'
    >>> language_mismatch_share(["en", "de", "en", None], expected="en")
    0.3333333333333333
"""

from __future__ import annotations

import copy
import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from factory.errors import BackendError, ConfigError

__all__ = ["MIN_LETTERS", "detect_languages", "dominant_language", "language_mismatch_share"]

MIN_LETTERS = 3
_NO_LANGUAGE = "zxx"  # ISO 639-2: no linguistic content
_FEATURELESS = float(np.finfo(np.float32).min)  # py3langid's score when no feature matched
_IDENTIFIERS: dict[tuple[str, ...] | None, Any] = {}
_LOCK = threading.Lock()


def _identifier(candidates: tuple[str, ...] | None) -> Any:
    """The process's identifier for `candidates` (None: every language); restricted ones are
    shallow copies of the full one, so restricting never changes the default."""
    with _LOCK:
        if None not in _IDENTIFIERS:
            try:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier
            except ImportError as exc:
                msg = (
                    "language checks need py3langid, which is not installed; run "
                    "`pip install py3langid`"
                )
                raise BackendError(msg) from exc
            _IDENTIFIERS[None] = LanguageIdentifier.from_model_file(MODEL_FILE)
        if candidates not in _IDENTIFIERS:
            full = _IDENTIFIERS[None]
            unknown = sorted(set(candidates or ()) - set(full.labels))
            if unknown:
                msg = (
                    f"unknown language codes {unknown}; expected codes among {sorted(full.labels)}"
                )
                raise ConfigError(msg)
            restricted = copy.copy(full)
            restricted.set_languages(list(candidates or ()))
            _IDENTIFIERS[candidates] = restricted
        return _IDENTIFIERS[candidates]


def detect_languages(
    texts: Sequence[str | None], candidates: Sequence[str] | None = None
) -> list[str | None]:
    """Language code per text; None for None/empty texts, < 3 letters or no language found.

    `candidates` restricts the answer to those codes (e.g. ["de", "en", "fr"]).
    """
    if candidates is not None and not candidates:
        msg = "candidates is empty; pass None for every language or at least one code"
        raise ConfigError(msg)
    key = tuple(sorted(set(candidates))) if candidates is not None else None
    identifier = _identifier(key)
    out: list[str | None] = []
    for text in texts:
        if not text or sum(ch.isalpha() for ch in text) < MIN_LETTERS:
            out.append(None)
            continue
        code, score = identifier.classify(text)
        out.append(None if code == _NO_LANGUAGE or score <= _FEATURELESS else str(code))
    return out


def dominant_language(languages: Sequence[str | None]) -> str | None:
    """The most frequent non-None code (ties: alphabetically first); None when there is none."""
    counts = Counter(code for code in languages if code is not None)
    if not counts:
        return None
    return min(counts, key=lambda code: (-counts[code], code))


def language_mismatch_share(languages: Sequence[str | None], expected: str) -> float:
    """Share of the non-None codes that differ from `expected`; 0.0 when there is none."""
    known = [code for code in languages if code is not None]
    if not known:
        return 0.0
    return sum(code != expected for code in known) / len(known)
