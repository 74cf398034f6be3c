"""The experiment's student backends: the linear head and the causal LM (a tiny Llama here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import StudentConfig
from factory.errors import ConfigError
from factory.experiments.students import STUDENT_BACKENDS, train_student

LABELS = ["card_arrival", "top_up_failed", "lost_card"]


def _frame(n: int, split: str) -> pl.DataFrame:
    labels = [LABELS[i % 3] for i in range(n)]
    texts = [f"message {i} about {label.replace('_', ' ')}" for i, label in enumerate(labels)]
    ids = [f"{split}-{i:03d}" for i in range(n)]
    return pl.DataFrame({"doc_id": ids, "split": [split] * n, "text": texts, "label": labels})


def _vectors(frame: pl.DataFrame) -> np.ndarray:
    """Separable vectors: one direction per label plus noise."""
    rng = np.random.default_rng(0)
    centres = np.eye(8, dtype=np.float32)[: len(LABELS)] * 3.0
    rows = [centres[LABELS.index(label)] for label in frame["label"].to_list()]
    return (np.stack(rows) + rng.normal(scale=0.3, size=(frame.height, 8))).astype(np.float32)


def test_registry_names_both_backends() -> None:
    assert sorted(STUDENT_BACKENDS) == ["classifier", "llm"]
    bad = StudentConfig.model_construct(backend="svm")
    with pytest.raises(ConfigError, match="unknown student 'svm'"):
        train_student(_frame(6, "train"), np.zeros((6, 8)), _frame(3, "validation"), bad,
                      Path("unused"), Path("unused"))  # fmt: skip


def test_head_student_scores_held_out_rows(tmp_path: Path) -> None:
    train, test = _frame(60, "train"), _frame(30, "test")
    config = StudentConfig(backend="classifier", head_epochs=20, seed=1)
    score = train_student(train, _vectors(train), _frame(3, "validation"), config,
                          tmp_path / "head", tmp_path / "models")  # fmt: skip
    results = score(test, _vectors(test))
    assert results["doc_id"].to_list() == test["doc_id"].to_list()
    assert results["reference"].to_list() == test["label"].to_list()
    assert results["correct"].mean() > 0.9  # separable by construction


def test_llm_student_trains_and_decodes_only_known_labels(tiny_llama: Path, tmp_path: Path) -> None:
    train, test = _frame(12, "train"), _frame(6, "test")
    config = StudentConfig(backend="llm", base_model=str(tiny_llama), max_steps=2, batch_size=2,
                           max_length=32, eval_documents=3)  # fmt: skip
    score = train_student(train, _vectors(train), _frame(3, "validation"), config,
                          tmp_path / "lm", tmp_path / "models")  # fmt: skip
    assert (tmp_path / "lm" / "adapter_config.json").is_file()
    results = score(test, _vectors(test))
    assert results.height == test.height
    assert set(results["prediction"].to_list()) <= set(LABELS)
    assert results["correct"].to_list() == [
        p == r for p, r in zip(results["prediction"], test["label"], strict=True)
    ]
