"""Protected-attribute term counts, samples vs corpus, one row per group (`protected_terms`).

Example:
    >>> bias_frame(["she paid"] * 6, ["he paid", "she paid"] * 20, ChecksConfig()).columns[:2]
    ['group', 'attribute']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from checks.metrics import load_lexicons, protected_term_counts, word_count
from factory.config import ChecksConfig

__all__ = ["INSUFFICIENT", "JUDGED", "SMOOTHING", "bias_frame"]

JUDGED = "judged"
INSUFFICIENT = "insufficient evidence"
SMOOTHING = 0.5
"""Pseudo-count added to both counts of a bias ratio, so unseen groups stay finite."""


def bias_frame(
    sample_texts: Sequence[str | None],
    corpus_texts: Sequence[str | None],
    config: ChecksConfig,
    lexicons: Mapping[str, set[str]] | None = None,
) -> pl.DataFrame:
    """One row per protected group: counts, per-word shares, `ratio` and `evidence`.

    `ratio` = smoothed sample share / smoothed corpus share; it is null (and `evidence` is
    "insufficient evidence") unless sample + corpus mentions reach `config.bias_min_count`.
    """
    lexicons = load_lexicons() if lexicons is None else lexicons
    sample_words, corpus_words = word_count(sample_texts), word_count(corpus_texts)
    sample_counts = protected_term_counts(sample_texts, lexicons)
    corpus_counts = protected_term_counts(corpus_texts, lexicons)
    rows = []
    for group in sorted(lexicons):
        s, c = sample_counts[group], corpus_counts[group]
        judged = s + c >= config.bias_min_count and sample_words > 0 and corpus_words > 0
        ratio = None
        if judged:
            ratio = ((s + SMOOTHING) / sample_words) / ((c + SMOOTHING) / corpus_words)
        rows.append(
            {
                "group": group,
                "attribute": group.split("/", 1)[0],
                "sample_count": s,
                "corpus_count": c,
                "sample_share": s / sample_words if sample_words else 0.0,
                "corpus_share": c / corpus_words if corpus_words else 0.0,
                "ratio": ratio,
                "evidence": JUDGED if judged else INSUFFICIENT,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "attribute": pl.String,
            "sample_count": pl.Int64,
            "corpus_count": pl.Int64,
            "sample_share": pl.Float64,
            "corpus_share": pl.Float64,
            "ratio": pl.Float64,
            "evidence": pl.String,
        },
    )
