"""Cluster keywords by class-based TF-IDF (c-TF-IDF, as in BERTopic).

Each class is the concatenation of its documents. Its term frequencies are L1-normalized per
class and weighted by log(1 + A / f_t), where A is the average number of words per class and f_t
the frequency of term t across all classes. Stop words: scikit-learn's English list plus the
stems contractions leave behind ("hasn", "isn").

Example:
    >>> ctfidf_keywords(["card arrival card", "transfer money"], [0, 1], top_n=1)
    {0: ['card'], 1: ['money']}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CONTRACTION_STEMS", "TOKEN_PATTERN", "ctfidf_keywords", "label_from_keywords"]

TOKEN_PATTERN = r"(?u)\b[^\W\d_]{3,}\b"
"""Words of three or more letters (no digits, no underscores)."""

CONTRACTION_STEMS = frozenset(
    [
        "aren",
        "cant",
        "couldn",
        "didn",
        "doesn",
        "dont",
        "hadn",
        "hasn",
        "haven",
        "isn",
        "isnt",
        "ive",
        "mustn",
        "shan",
        "shouldn",
        "wasn",
        "weren",
        "won",
        "wouldn",
        "youre",
    ]
)
"""What the token pattern leaves of "hasn't", "isn't"...: stop words too."""


def ctfidf_keywords(
    texts: Sequence[str], classes: Sequence[int], top_n: int
) -> dict[int, list[str]]:
    """Top `top_n` c-TF-IDF terms of each class (ties broken alphabetically); [] when none."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    keys = sorted({int(c) for c in classes})
    if not keys:
        return {}
    joined: dict[int, list[str]] = {k: [] for k in keys}
    for text, cls in zip(texts, classes, strict=True):
        joined[int(cls)].append(text)
    docs = [" ".join(joined[k]) for k in keys]
    stop_words = sorted(ENGLISH_STOP_WORDS | CONTRACTION_STEMS)
    vectorizer = CountVectorizer(stop_words=stop_words, token_pattern=TOKEN_PATTERN)
    try:
        counts = vectorizer.fit_transform(docs).toarray().astype(np.float64)
    except ValueError:  # empty vocabulary: only stop words or short tokens
        return {k: [] for k in keys}
    terms = vectorizer.get_feature_names_out()
    per_class = counts.sum(axis=1, keepdims=True)
    tf = np.divide(counts, per_class, out=np.zeros_like(counts), where=per_class > 0)
    avg_words = float(per_class.mean())
    idf = np.log(1.0 + avg_words / counts.sum(axis=0))
    scores = tf * idf
    out: dict[int, list[str]] = {}
    for row, key in enumerate(keys):
        nonzero = np.nonzero(scores[row] > 0)[0]
        ranked = sorted(nonzero, key=lambda j: (-scores[row, j], terms[j]))
        out[key] = [str(terms[j]) for j in ranked[:top_n]]
    return out


def label_from_keywords(keywords: list[str], cluster_id: int, n: int = 3) -> str:
    """The first `n` keywords joined with " / ", or "cluster <id>" when there are none."""
    return " / ".join(keywords[:n]) if keywords else f"cluster {cluster_id}"
