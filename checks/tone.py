"""Sentiment and toxicity rates of a sample set, scored offline with two published lexicons.

Sentiment is VADER (Hutto & Gilbert 2014) from the `vaderSentiment` package (3.3.2, MIT): its
compound score in [-1, 1] per text, negative at <= -0.05 by VADER's documented convention.
Toxicity is a whole-word match against the word list of the `better_profanity` package (0.7.0,
MIT), read from its `profanity_wordlist.txt`; its leetspeak-expanding censor API is not used.

Both are lexicon scorers: they count words, not meaning. They miss context ("killer deal"),
sarcasm, negation beyond a few words, implicit or coded toxicity, and words outside their lists;
they also flag quoted or harmless uses of listed words. Read the rates as a coarse alarm for gross
drift in tone, not as a measure of harm.

Example:
    >>> scores = sentiment_scores(["I love this card", "This is awful", None])
    >>> [round(float(s), 2) for s in scores[:2]], bool(np.isnan(scores[2]))
    ([0.64, -0.46], True)
    >>> negative_share(scores)
    0.5
    >>> toxic_share(toxic_flags(["what a stupid idiot", "my card is lost"]))
    0.5
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from factory.errors import BackendError

__all__ = [
    "NEGATIVE_THRESHOLD",
    "negative_share",
    "sentiment_scores",
    "toxic_flags",
    "toxic_share",
    "toxic_terms",
]

NEGATIVE_THRESHOLD = -0.05
"""VADER's documented cut: a compound score at or below it is negative."""

_TOKEN = re.compile(r"\w+")
_WORDLIST = "profanity_wordlist.txt"


@cache
def _analyzer() -> Any:
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError as exc:
        msg = (
            "sentiment scoring needs the 'vaderSentiment' package, which is not installed; "
            "install it with `pip install vaderSentiment` or `pip install factory-data[quality]`"
        )
        raise BackendError(msg) from exc
    return SentimentIntensityAnalyzer()


def sentiment_scores(texts: Sequence[str | None]) -> np.ndarray:
    """VADER compound score per text in [-1, 1], NaN for None or blank; shape (n,), float64."""
    analyzer = _analyzer()
    out = np.full(len(texts), np.nan, dtype=np.float64)
    for i, text in enumerate(texts):
        if text and text.strip():
            out[i] = analyzer.polarity_scores(text)["compound"]
    return out


def negative_share(scores: np.ndarray, threshold: float = NEGATIVE_THRESHOLD) -> float:
    """Share of finite scores at or below `threshold`; 0.0 when there are none."""
    values = np.asarray(scores, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return float((finite <= threshold).mean()) if finite.size else 0.0


def _wordlist_path() -> Path:
    spec = importlib.util.find_spec("better_profanity")
    if spec is None or spec.origin is None:
        msg = (
            "toxicity scoring needs the word list of the 'better_profanity' package, which is "
            "not installed; install it with `pip install better_profanity` or "
            "`pip install factory-data[quality]`"
        )
        raise BackendError(msg)
    path = Path(spec.origin).resolve().parent / _WORDLIST
    if not path.is_file():
        msg = f"word list {str(path)!r} is missing; reinstall better_profanity"
        raise BackendError(msg)
    return path


@cache
def toxic_terms() -> frozenset[str]:
    """The better_profanity word list, lowercased, inner whitespace collapsed."""
    lines = _wordlist_path().read_text(encoding="utf-8").splitlines()
    return frozenset(" ".join(line.lower().split()) for line in lines if line.strip())


@cache
def _matchers() -> tuple[frozenset[str], re.Pattern[str] | None]:
    """Single-token terms for set lookup; the rest (spaces, hyphens, dots) as one regex."""
    terms = toxic_terms()
    single = frozenset(t for t in terms if _TOKEN.fullmatch(t))
    other = sorted(terms - single, key=lambda t: (-len(t), t))
    if not other:
        return single, None
    parts = [r"\s+".join(map(re.escape, t.split())) for t in other]
    return single, re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def toxic_flags(texts: Sequence[str | None]) -> np.ndarray:
    """Per text, whether it holds a listed term as a whole word (case-insensitive); shape (n,)."""
    single, pattern = _matchers()
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        if not text:
            continue
        lowered = text.lower()
        hit = not single.isdisjoint(_TOKEN.findall(lowered))
        out[i] = hit or (pattern is not None and pattern.search(lowered) is not None)
    return out


def toxic_share(flags: np.ndarray) -> float:
    """Share of flagged texts; 0.0 when there are none."""
    values = np.asarray(flags, dtype=bool)
    return float(values.mean()) if values.size else 0.0
