"""`fit_student`: one entry point per backend, with clear errors before any training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import StudentConfig
from factory.errors import ConfigError
from factory.training import check_student_task, fit_student, held_out_texts, load_head

ROWS = pl.DataFrame({"text": [f"message {i}" for i in range(8)], "label": ["a", "b"] * 4})


def test_an_unknown_backend_or_a_head_on_unlabelled_text_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown student 'svm'"):
        check_student_task(StudentConfig.model_construct(backend="svm"), "classification")
    with pytest.raises(ConfigError, match=r"needs task\.kind: classification"):
        check_student_task(StudentConfig(backend="classifier"), "text")
    check_student_task(StudentConfig(backend="llm"), "qa")


def test_the_head_needs_one_vector_per_row_and_the_llm_its_base(tmp_path: Path) -> None:
    head = StudentConfig(backend="classifier")
    with pytest.raises(ConfigError, match="8 rows, 3 vectors"):
        fit_student(ROWS, "classification", head, tmp_path, vectors=np.zeros((3, 4)))
    with pytest.raises(ConfigError, match="needs its base model"):
        fit_student(ROWS, "classification", StudentConfig(backend="llm"), tmp_path)


def test_the_head_trains_on_the_rows_vectors(tmp_path: Path) -> None:
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]] * 4, dtype=np.float32)
    config = StudentConfig(backend="classifier", head_epochs=40)
    result = fit_student(ROWS, "classification", config, tmp_path / "head", vectors=vectors)
    head = load_head(result.checkpoint_path)
    assert head.predict(vectors) == ROWS["label"].to_list()
    assert result.perplexity_before is None


def test_held_out_texts_take_the_first_eval_documents() -> None:
    config = StudentConfig(eval_documents=3)
    texts = held_out_texts(ROWS, "classification", config)
    assert texts == [f"Message: message {i}\nIntent: {'ab'[i % 2]}" for i in range(3)]
    assert held_out_texts(None, "text", config) == []
