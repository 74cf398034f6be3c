"""`reference_rates`: which train rows each corpus rate is measured on."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from checks.measure import reference_rates
from checks.reference import QualityReference, QualityTools
from factory.config import ChecksConfig


class _CountingTools(QualityTools):
    """Tools whose reference LM is a seeded stand-in that records what it was asked to score."""

    def __init__(self) -> None:
        super().__init__(embedder=None)  # type: ignore[arg-type]
        self.scored: list[str | None] = []

    def perplexities(self, texts: Sequence[str | None]) -> np.ndarray:
        self.scored.extend(texts)
        return np.random.default_rng(0).uniform(5.0, 50.0, len(texts))


def _reference(rows: int) -> QualityReference:
    vectors = np.random.default_rng(1).normal(size=(rows, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return QualityReference(
        doc_ids=[f"d{i:04d}" for i in range(rows)],
        texts=[f"Row number {i} of the reference corpus, in plain English." for i in range(rows)],
        labels=[None] * rows,
        groups=[None] * rows,
        vectors=vectors,
        embedder_fingerprint="test",
    )


def test_fluency_ceiling_scores_only_the_first_fluency_rows() -> None:
    tools = _CountingTools()
    config = ChecksConfig(reference_rows=300, fluency_rows=120, language="en")
    rates = reference_rates(_reference(400), [], config, tools)
    assert len(tools.scored) == 120
    assert tools.scored[0] == "Row number 0 of the reference corpus, in plain English."
    assert rates.rates["disfluent_share"][1] == 120
    assert rates.rates["toxic_share"][1] == 300  # the other model-based rates keep reference_rows
    assert rates.perplexity_ceiling is not None
