"""Fixtures for the quality gates: sample frames, and banking77 rows presented as samples."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import SplitConfig
from factory.corpus import assign_split, normalize_text
from factory.hashing import content_hash
from factory.schemas import SYNTHETIC_SAMPLES

MakeSamples = Callable[..., pl.DataFrame]


def build_samples(
    texts: Sequence[str | None],
    achieved: Sequence[float | None] | None = None,
    ids: Sequence[str] | None = None,
    labels: Sequence[str | None] | None = None,
) -> pl.DataFrame:
    """A SYNTHETIC_SAMPLES frame around `texts`; ids default to s000, s001, ..."""
    n = len(texts)
    return SYNTHETIC_SAMPLES.validate(
        pl.DataFrame(
            {
                "sample_id": list(ids) if ids is not None else [f"s{i:03d}" for i in range(n)],
                "text": list(texts),
                "label": list(labels) if labels is not None else [None] * n,
                "answer": [None] * n,
                "gap_id": ["gap-test"] * n,
                "target_id": [f"t{i:03d}" for i in range(n)],
                "method": ["interpolate"] * n,
                "parent_doc_ids": [["doc-parent"]] * n,
                "target_cosine": [0.8] * n,
                "achieved_cosine": list(achieved) if achieved is not None else [0.7] * n,
                "step": [None] * n,
                "displacement": [None] * n,
                "label_confidence": [None] * n,
                "candidates": [3] * n,
                "rounds": [1] * n,
                "teacher_fingerprint": ["test-teacher"] * n,
                "prompt_template_hash": ["0" * 64] * n,
                "sampling_params": ['{"temperature": 0.8}'] * n,
                "seed": list(range(n)),
                "curriculum_stage": [0] * n,
                "round": [1] * n,
                "failure_doc_ids": [[] for _ in range(n)],
                "run_id": ["test-run"] * n,
            },
            schema={c.name: c.dtype for c in SYNTHETIC_SAMPLES.columns},
        )
    )


@pytest.fixture
def make_samples() -> MakeSamples:
    """`build_samples` as a fixture."""
    return build_samples


@dataclass(frozen=True)
class Banking:
    """Real banking77 rows: a train-split corpus and validation-split rows posing as samples."""

    corpus: pl.DataFrame  # doc_id, text, label, split
    corpus_vectors: np.ndarray  # shape (m, 384), aligned with corpus rows
    samples: pl.DataFrame  # SYNTHETIC_SAMPLES columns, sorted by sample_id
    sample_vectors: np.ndarray  # shape (n, 384), aligned with sample rows
    fingerprint: str


@pytest.fixture(scope="session")
def banking(banking77_dir: Path, minilm: object) -> Banking:
    """300 train-split and 200 validation-split banking77 rows, embedded with real MiniLM."""
    raw = pl.read_csv(banking77_dir / "train.csv")
    texts = [normalize_text(t) for t in raw["text"].to_list()]
    frame = pl.DataFrame(
        {
            "doc_id": [content_hash(t) for t in texts],
            "text": texts,
            "label": raw["category"].to_list(),
        }
    ).unique("doc_id", keep="first")
    frame = frame.with_columns(
        pl.col("doc_id")
        .map_elements(lambda d: assign_split(d, SplitConfig()), pl.String)
        .alias("split")
    ).sort("doc_id")
    corpus = frame.filter(pl.col("split") == "train").head(300)
    held_out = frame.filter(pl.col("split") == "validation").head(200)
    corpus_vectors = minilm.embed(corpus["text"].to_list())  # type: ignore[attr-defined]
    vectors = minilm.embed(held_out["text"].to_list())  # type: ignore[attr-defined]
    achieved = (vectors @ corpus_vectors.T).max(axis=1)  # cosine to the nearest train document
    samples = build_samples(
        held_out["text"].to_list(),
        achieved=[float(a) for a in achieved],
        ids=["smp-" + d[:16] for d in held_out["doc_id"].to_list()],
        labels=held_out["label"].to_list(),
    )
    return Banking(
        corpus=corpus,
        corpus_vectors=corpus_vectors,
        samples=samples,
        sample_vectors=vectors,
        fingerprint=minilm.fingerprint,  # type: ignore[attr-defined]
    )
