"""Quality gates for synthetic samples: pure metrics, row filters and Great Expectations suites.

`checks.dagster_checks` wraps the suites as Dagster asset checks; nothing else here imports
dagster, and Great Expectations is imported only when a suite runs.

Example:
    >>> from checks import run_family  # doctest: +SKIP
    >>> outcome = run_family("bias", samples, vectors, texts, corpus_vectors, cfg)  # doctest: +SKIP
    >>> outcome.passed  # doctest: +SKIP
    True
"""

from __future__ import annotations

from checks.frames import bias_frame, coherence_frame, diversity_frame
from checks.metrics import (
    distinct_n,
    load_lexicons,
    max_similarity_to,
    mean_pairwise_cosine_distance,
    near_duplicate_mask,
    near_duplicate_rate,
    protected_term_counts,
    term_shares,
)
from checks.reference import corpus_reference
from checks.row_filters import REJECT_CATEGORIES, filter_samples, rejection_reasons
from checks.suites import FAMILIES, CheckOutcome, build_suite, run_family

__all__ = [
    "FAMILIES",
    "REJECT_CATEGORIES",
    "CheckOutcome",
    "bias_frame",
    "build_suite",
    "coherence_frame",
    "corpus_reference",
    "distinct_n",
    "diversity_frame",
    "filter_samples",
    "load_lexicons",
    "max_similarity_to",
    "mean_pairwise_cosine_distance",
    "near_duplicate_mask",
    "near_duplicate_rate",
    "protected_term_counts",
    "rejection_reasons",
    "run_family",
    "term_shares",
]
