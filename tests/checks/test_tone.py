"""Sentiment and toxicity scorers on crafted sentences and on real banking77 texts."""

from __future__ import annotations

import doctest
import math
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import checks.tone
from checks.tone import (
    NEGATIVE_THRESHOLD,
    negative_share,
    sentiment_scores,
    toxic_flags,
    toxic_share,
    toxic_terms,
)

BANKING = [
    "I am still waiting on my card?",
    "How do I top up my account with a bank transfer?",
    "Why was I charged a fee for cash withdrawal?",
    "Can I change my PIN at an ATM in Spain?",
]


def test_module_example_runs() -> None:
    result = doctest.testmod(checks.tone)
    assert result.attempted > 0
    assert result.failed == 0


def test_sentiment_orders_positive_neutral_negative() -> None:
    scores = sentiment_scores(
        [
            "I love this bank, the service is great and very helpful!",
            "My card arrived on Tuesday.",
            "This is terrible, I hate waiting and the app is awful.",
        ]
    )
    assert scores.shape == (3,)
    assert scores.dtype == np.float64
    positive, neutral, negative = scores.tolist()
    assert positive > 0.5
    assert abs(neutral) < 0.05
    assert negative < -0.5
    assert all(-1.0 <= s <= 1.0 for s in scores)


def test_sentiment_is_nan_for_missing_or_blank() -> None:
    scores = sentiment_scores([None, "", "   ", "good"])
    assert np.isnan(scores[:3]).all()
    assert scores[3] > 0
    assert sentiment_scores([]).shape == (0,)


def test_negative_share_uses_inclusive_threshold_and_skips_nan() -> None:
    scores = np.array([NEGATIVE_THRESHOLD, -0.9, 0.0, 0.7, np.nan])
    assert negative_share(scores) == pytest.approx(0.5)
    assert negative_share(scores, threshold=-0.5) == pytest.approx(0.25)
    assert negative_share(np.array([np.nan])) == 0.0
    assert negative_share(np.array([])) == 0.0


def test_toxic_terms_are_lowercase_and_memoized() -> None:
    terms = toxic_terms()
    assert terms is toxic_terms()
    assert len(terms) > 500
    assert all(t == t.lower() for t in terms)
    assert {"stupid", "bastard", "blow job"} <= terms


def test_toxic_flags_whole_words_case_insensitive() -> None:
    flags = toxic_flags(
        [
            "You are a STUPID idiot",
            "what a bastard.",
            *BANKING,
            "Please classify this assessment",  # 'ass' inside a word is not a match
            None,
            "",
        ]
    )
    assert flags.dtype == bool
    assert flags.tolist() == [True, True] + [False] * (len(BANKING) + 3)


def test_toxic_flags_multi_word_and_punctuated_entries() -> None:
    flags = toxic_flags(["offer a blow  job", "BLOW JOB", "f-u-c-k that", "a blow to the job"])
    assert flags.tolist() == [True, True, True, False]


def test_toxic_share() -> None:
    assert toxic_share(np.array([True, False, False, False])) == 0.25
    assert toxic_share(np.array([], dtype=bool)) == 0.0


def test_banking77_train_is_mostly_neutral_and_clean(banking77_dir: Path) -> None:
    texts = pl.read_csv(banking77_dir / "train.csv")["text"].to_list()
    start = time.perf_counter()
    negative = negative_share(sentiment_scores(texts))
    toxic = toxic_share(toxic_flags(texts))
    elapsed = time.perf_counter() - start
    print(
        f"banking77 train: {len(texts)} rows, negative share {negative:.4f}, "
        f"toxic share {toxic:.4%}, {elapsed:.2f} s"
    )
    assert len(texts) > 10_000
    assert not math.isnan(negative)
    assert 0.0 < negative < 0.5
    assert toxic < 0.01
