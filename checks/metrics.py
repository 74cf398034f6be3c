"""Quality metrics of a sample set: pure functions of vectors and texts (reads only lexicons).

Vectors are rows of an embedding matrix, shape (n, d); they are L2-normalized here, so cosine
similarity is a dot product. Texts are matched lowercase, on whole words.

Example:
    >>> import numpy as np
    >>> v = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    >>> near_duplicate_rate(v, 0.95)
    0.3333333333333333
    >>> round(mean_pairwise_cosine_distance(v), 4)
    0.6667
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

from factory.errors import ConfigError, SchemaError

__all__ = [
    "LEXICON_DIR",
    "LEXICON_FILES",
    "distinct_n",
    "load_lexicons",
    "max_similarity_to",
    "mean_pairwise_cosine_distance",
    "near_duplicate_mask",
    "near_duplicate_rate",
    "parse_lexicon",
    "protected_term_counts",
    "term_shares",
    "unit_rows",
    "word_count",
]

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
LEXICON_FILES = ("age", "gender", "nationality", "religion")
_WORD = re.compile(r"\w+(?:'\w+)*")
_BLOCK = 1024


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """`vectors` as float32 rows of unit length (all-zero rows stay zero); shape (n, d)."""
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2:
        msg = f"expected a 2-D array of vectors, shape (n, d); got shape {rows.shape}"
        raise SchemaError(msg)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms == 0, 1.0, norms)


def mean_pairwise_cosine_distance(vectors: np.ndarray) -> float:
    """Mean of 1 - cos(u, v) over all unordered pairs of rows; NaN for fewer than 2 rows.

    Exact for any n in O(n d): for unit rows, the sum of all pairwise dot products is
    (|sum of rows|^2 - n) / 2, so no pair sampling is needed.
    """
    rows = unit_rows(vectors).astype(np.float64)
    n = rows.shape[0]
    if n < 2:
        return float("nan")
    norms_sq = float(np.einsum("ij,ij->", rows, rows))  # n, less any all-zero rows
    total = rows.sum(axis=0)
    pair_dot_sum = (float(total @ total) - norms_sq) / 2.0
    pairs = n * (n - 1) / 2.0
    return 1.0 - pair_dot_sum / pairs


def near_duplicate_mask(vectors: np.ndarray, threshold: float) -> np.ndarray:
    """Per row, whether an earlier row has cosine >= `threshold`; shape (n,), bool."""
    rows = unit_rows(vectors)
    n = rows.shape[0]
    out = np.zeros(n, dtype=bool)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        sims = rows[start:stop] @ rows[:stop].T  # (block, stop)
        earlier = np.arange(stop)[None, :] < np.arange(start, stop)[:, None]
        out[start:stop] = ((sims >= threshold) & earlier).any(axis=1)
    return out


def near_duplicate_rate(vectors: np.ndarray, threshold: float) -> float:
    """Share of rows that have an earlier row with cosine >= `threshold`; 0.0 when empty."""
    mask = near_duplicate_mask(vectors, threshold)
    return float(mask.mean()) if mask.size else 0.0


def max_similarity_to(
    reference_vectors: np.ndarray, vectors: np.ndarray, block_size: int = _BLOCK
) -> np.ndarray:
    """Per row of `vectors`, the highest cosine to any reference row; shape (n,), -inf if none."""
    ref = unit_rows(reference_vectors)
    rows = unit_rows(vectors)
    n = rows.shape[0]
    if ref.shape[0] == 0:
        return np.full(n, -np.inf, dtype=np.float32)
    if n and ref.shape[1] != rows.shape[1]:
        msg = (
            f"reference vectors have width {ref.shape[1]} but vectors have width {rows.shape[1]}; "
            "embed both with the same model"
        )
        raise SchemaError(msg)
    out = np.empty(n, dtype=np.float32)
    for start in range(0, n, block_size):
        block = rows[start : start + block_size]
        best = np.full(block.shape[0], -np.inf, dtype=np.float32)
        for ref_start in range(0, ref.shape[0], block_size * 4):
            sims = block @ ref[ref_start : ref_start + block_size * 4].T
            best = np.maximum(best, sims.max(axis=1))
        out[start : start + block.shape[0]] = best
    return out


def parse_lexicon(text: str, attribute: str) -> dict[str, set[str]]:
    """Parse one lexicon file's text into `{"attribute/group": {terms}}`."""
    groups: dict[str, set[str]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = f"{attribute}/{line[1:-1].strip()}"
            groups.setdefault(current, set())
            continue
        if current is None:
            msg = (
                f"lexicon {attribute!r} line {number}: term {line!r} comes before any "
                "'[group]' header; start the file with a header such as '[female]'"
            )
            raise ConfigError(msg)
        groups[current].add(" ".join(line.lower().split()))
    return groups


@cache
def _load_lexicons(folder: str) -> dict[str, frozenset[str]]:
    groups: dict[str, frozenset[str]] = {}
    for attribute in LEXICON_FILES:
        path = Path(folder) / f"{attribute}.txt"
        if not path.is_file():
            msg = f"lexicon file {str(path)!r} is missing; reinstall factory or restore the file"
            raise ConfigError(msg)
        parsed = parse_lexicon(path.read_text(encoding="utf-8"), attribute)
        groups.update({name: frozenset(terms) for name, terms in parsed.items()})
    return groups


def load_lexicons(folder: Path | None = None) -> dict[str, set[str]]:
    """Protected-attribute terms by group, e.g. `{"gender/female": {"she", ...}, ...}`."""
    loaded = _load_lexicons(str(folder or LEXICON_DIR))
    return {name: set(terms) for name, terms in sorted(loaded.items())}


@cache
def _group_pattern(terms: frozenset[str]) -> re.Pattern[str]:
    parts = [
        r"\s+".join(map(re.escape, t.split())) for t in sorted(terms, key=lambda t: (-len(t), t))
    ]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


def protected_term_counts(
    texts: Iterable[str | None], lexicons: Mapping[str, Iterable[str]]
) -> dict[str, int]:
    """Whole-word mentions of each group's terms over all texts (case-insensitive)."""
    lowered = [t.lower() for t in texts if t]
    counts: dict[str, int] = {}
    for group in sorted(lexicons):
        terms = frozenset(" ".join(t.lower().split()) for t in lexicons[group] if t.strip())
        if not terms:
            counts[group] = 0
            continue
        pattern = _group_pattern(terms)
        counts[group] = sum(len(pattern.findall(text)) for text in lowered)
    return counts


def word_count(texts: Iterable[str | None]) -> int:
    """Number of word tokens over all texts."""
    return sum(len(_WORD.findall(t)) for t in texts if t)


def term_shares(
    texts: Iterable[str | None], lexicons: Mapping[str, Iterable[str]]
) -> dict[str, float]:
    """Each group's mentions per word token over all texts; 0.0 for every group when no words."""
    texts = list(texts)
    words = word_count(texts)
    counts = protected_term_counts(texts, lexicons)
    return {g: (c / words if words else 0.0) for g, c in counts.items()}


def distinct_n(texts: Iterable[str | None], n: int) -> float:
    """Distinct word n-grams / all word n-grams over the texts (lowercase); 0.0 when none."""
    if n < 1:
        msg = f"distinct_n needs n >= 1, got {n}; use 1 for words, 2 for bigrams"
        raise ConfigError(msg)
    seen: set[tuple[str, ...]] = set()
    total = 0
    for text in texts:
        if not text:
            continue
        words = _WORD.findall(text.lower())
        grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
        seen.update(grams)
        total += len(grams)
    return len(seen) / total if total else 0.0
