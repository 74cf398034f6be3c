"""The frames each quality suite validates, built from the metrics (polars in, polars out).

- coherence: one row per sample (`sample_id`, `text`, `text_length`, `achieved_cosine`).
- diversity: one row of set metrics (`duplicate_rate`, `diversity_ratio`, ...).
- bias: one row per protected group (`sample_count`, `corpus_count`, shares, `ratio`, `evidence`).

Example:
    >>> bias_frame(["she paid"] * 6, ["he paid", "she paid"] * 20, ChecksConfig()).columns[:2]
    ['group', 'attribute']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import polars as pl

from checks.metrics import (
    distinct_n,
    load_lexicons,
    mean_pairwise_cosine_distance,
    near_duplicate_rate,
    protected_term_counts,
    word_count,
)
from factory.config import ChecksConfig
from factory.errors import SchemaError

__all__ = [
    "INSUFFICIENT",
    "JUDGED",
    "SMOOTHING",
    "bias_frame",
    "coherence_frame",
    "diversity_frame",
    "sort_samples",
]

JUDGED = "judged"
INSUFFICIENT = "insufficient evidence"
SMOOTHING = 0.5
"""Pseudo-count added to both counts of a bias ratio, so unseen groups stay finite."""


def sort_samples(
    samples: pl.DataFrame, sample_vectors: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray]:
    """Samples sorted by `sample_id` and their vectors in the same order; shape (n, d)."""
    vectors = np.asarray(sample_vectors, dtype=np.float32)
    if vectors.shape[0] != samples.height:
        msg = (
            f"sample_vectors has {vectors.shape[0]} rows but samples has {samples.height}; "
            "embed exactly the `text` column of the samples, in row order"
        )
        raise SchemaError(msg)
    if samples.height == 0:
        return samples, vectors.reshape(0, vectors.shape[1] if vectors.ndim == 2 else 0)
    indexed = samples.with_row_index("_row").sort("sample_id", maintain_order=True)
    order = indexed["_row"].to_numpy().astype(np.int64)
    return indexed.drop("_row"), vectors[order]


def coherence_frame(samples: pl.DataFrame) -> pl.DataFrame:
    """One row per sample: `sample_id`, `text`, `text_length` (chars), `achieved_cosine`."""
    return samples.select(
        pl.col("sample_id"),
        pl.col("text"),
        pl.col("text").str.len_chars().cast(pl.Int64).alias("text_length"),
        pl.col("achieved_cosine").cast(pl.Float64),
    )


def diversity_frame(
    sample_texts: Sequence[str | None],
    sample_vectors: np.ndarray,
    corpus_vectors: np.ndarray,
    config: ChecksConfig,
) -> pl.DataFrame:
    """One row: samples, duplicate_rate, mean distances, diversity_ratio (null when undefined)."""
    sample_distance = mean_pairwise_cosine_distance(sample_vectors)
    corpus_distance = mean_pairwise_cosine_distance(corpus_vectors)
    ratio: float | None = None
    if np.isfinite(sample_distance) and np.isfinite(corpus_distance) and corpus_distance > 0:
        ratio = sample_distance / corpus_distance
    return pl.DataFrame(
        {
            "samples": [len(sample_texts)],
            "corpus_documents": [int(np.asarray(corpus_vectors).shape[0])],
            "duplicate_rate": [near_duplicate_rate(sample_vectors, config.duplicate_cosine)],
            "sample_mean_distance": [_finite_or_none(sample_distance)],
            "corpus_mean_distance": [_finite_or_none(corpus_distance)],
            "diversity_ratio": [ratio],
            "distinct_1": [distinct_n(sample_texts, 1)],
            "distinct_2": [distinct_n(sample_texts, 2)],
        },
        schema={
            "samples": pl.Int64,
            "corpus_documents": pl.Int64,
            "duplicate_rate": pl.Float64,
            "sample_mean_distance": pl.Float64,
            "corpus_mean_distance": pl.Float64,
            "diversity_ratio": pl.Float64,
            "distinct_1": pl.Float64,
            "distinct_2": pl.Float64,
        },
    )


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


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
