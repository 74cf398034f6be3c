"""Vendi score against a direct eigen-decomposition, size-matched baselines, real MiniLM vectors."""

from __future__ import annotations

import doctest
import math
from functools import partial
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import checks.spread
from checks.metrics import distinct_n, unit_rows
from checks.spread import size_matched_baseline, size_matched_texts_baseline, vendi_score
from factory.errors import ConfigError, SchemaError


def _random(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def _direct_vendi(vectors: np.ndarray) -> float:
    unit = unit_rows(vectors).astype(np.float64)
    eigenvalues = np.linalg.eigvalsh(unit @ unit.T / len(unit))
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))


def test_module_examples_run() -> None:
    result = doctest.testmod(checks.spread)
    assert result.attempted > 0
    assert result.failed == 0


def test_vendi_extremes() -> None:
    assert vendi_score(np.tile([[3.0, 4.0, 0.0]], (50, 1))) == pytest.approx(1.0)
    assert vendi_score(np.eye(7)) == pytest.approx(7.0)
    assert vendi_score(np.eye(7)[:3]) == pytest.approx(3.0)  # n < d
    assert vendi_score(np.ones((1, 5))) == pytest.approx(1.0)
    assert math.isnan(vendi_score(np.empty((0, 5))))
    two_groups = np.vstack([np.tile([1.0, 0.0], (10, 1)), np.tile([0.0, 1.0], (10, 1))])
    assert vendi_score(two_groups) == pytest.approx(2.0)


def test_vendi_matches_direct_eigendecomposition() -> None:
    for n, d, seed in [(40, 16, 0), (12, 30, 1), (200, 8, 2)]:
        vectors = _random(n, d, seed) + 0.5
        assert vendi_score(vectors) == pytest.approx(_direct_vendi(vectors), rel=1e-6)


def test_vendi_ignores_row_scale_and_zero_rows() -> None:
    vectors = _random(60, seed=3)
    scales = np.random.default_rng(4).uniform(0.1, 50.0, size=(60, 1)).astype(np.float32)
    assert vendi_score(vectors * scales) == pytest.approx(vendi_score(vectors), rel=1e-6)
    with_zeros = np.vstack([vectors, np.zeros((5, 16), dtype=np.float32)])
    assert vendi_score(with_zeros) == pytest.approx(vendi_score(vectors), rel=1e-6)
    assert math.isnan(vendi_score(np.zeros((3, 4))))


def test_vendi_grows_with_spread() -> None:
    base = _random(1, d=32, seed=5)
    noise = _random(300, d=32, seed=6)
    scores = [vendi_score(base + s * noise) for s in (0.05, 0.2, 0.5, 1.0, 3.0)]
    assert scores == sorted(scores)
    assert scores[0] < 1.5 < scores[-1]


def test_vendi_rejects_non_matrix() -> None:
    with pytest.raises(SchemaError, match="2-D"):
        vendi_score(np.ones(4))


def test_vendi_of_many_random_rows_is_bounded_by_the_width() -> None:
    score = vendi_score(_random(10_000, d=384, seed=7))
    assert 300 < score <= 384


def test_baseline_is_deterministic_and_size_matched() -> None:
    reference = _random(400, seed=8)
    sizes: list[int] = []

    def size_of(rows: np.ndarray) -> float:
        sizes.append(len(rows))
        return float(rows[:, 0].sum())

    first = size_matched_baseline(size_of, reference, 30, draws=5, seed=1)
    assert sizes == [30] * 5
    assert size_matched_baseline(size_of, reference, 30, draws=5, seed=1) == first
    assert size_matched_baseline(size_of, reference, 30, draws=5, seed=2) != first
    sizes.clear()
    assert size_matched_baseline(size_of, reference, 1000) == pytest.approx(
        float(reference[:, 0].sum()), rel=1e-5
    )
    assert sizes == [400]  # every subset would be the whole reference: computed once


def test_baseline_median_and_vendi_size_dependence() -> None:
    reference = _random(2000, d=64, seed=9)
    small = size_matched_baseline(vendi_score, reference, 20)
    large = size_matched_baseline(vendi_score, reference, 500)
    assert small < large
    values = [float(v) for v in range(7)]
    picks = iter(values)
    assert size_matched_baseline(lambda _: next(picks), reference, 5, draws=7) == 3.0


def test_baseline_empty_and_errors() -> None:
    assert math.isnan(size_matched_baseline(vendi_score, np.empty((0, 4)), 10))
    assert math.isnan(size_matched_baseline(vendi_score, np.eye(4), 0))
    with pytest.raises(ConfigError, match="draws must be >= 1, got 0"):
        size_matched_baseline(vendi_score, np.eye(4), 2, draws=0)
    with pytest.raises(ConfigError, match="n must be >= 0, got -1"):
        size_matched_texts_baseline(len, ["a"], -1)


def test_texts_baseline_with_distinct_n() -> None:
    texts = [f"word{i % 50} other{i % 7}" for i in range(1000)]
    metric = partial(distinct_n, n=1)
    small = size_matched_texts_baseline(metric, texts, 20, seed=3)
    assert small == size_matched_texts_baseline(metric, texts, 20, seed=3)
    assert small > size_matched_texts_baseline(metric, texts, 800, seed=3)
    assert size_matched_texts_baseline(metric, texts, 5000) == metric(texts)
    assert math.isnan(size_matched_texts_baseline(metric, [], 5))


def test_vendi_of_ten_intents_beats_one_intent(banking77_dir: Path, minilm: object) -> None:
    frame = pl.concat(
        [pl.read_csv(banking77_dir / name) for name in ("train.csv", "test.csv")]
    ).select("text", "category")
    largest = frame["category"].value_counts().sort(["count", "category"])["category"][-1]
    one = frame.filter(pl.col("category") == largest)["text"].head(200).to_list()
    intents = sorted(set(frame["category"].to_list()))[:10]
    ten = (
        frame.filter(pl.col("category").is_in(intents))
        .group_by("category", maintain_order=True)
        .head(20)["text"]
        .to_list()
    )
    assert len(one) == len(ten) == 200
    one_score = vendi_score(minilm.embed(one))  # type: ignore[attr-defined]
    ten_score = vendi_score(minilm.embed(ten))  # type: ignore[attr-defined]
    print(
        f"banking77 Vendi, 200 texts: 1 intent ({largest}) {one_score:.2f}, "
        f"10 intents {ten_score:.2f}"
    )
    assert ten_score > one_score * 1.2
