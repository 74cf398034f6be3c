"""The experiment's student behind one small function per backend.

A trainer takes the rows a condition trains on (text, label and their unit vectors) and returns
a `Scorer`: per-example results (`evaluate_head` / `evaluate_causal_lm` columns, with `correct`)
on any labelled frame. `classifier` is the light linear head on the embedder's vectors; `llm`
fine-tunes the causal LM (LoRA or full, `student.method`) and decodes labels under constraint.

Example:
    >>> cfg = StudentConfig(backend="classifier")
    >>> score = train_student(rows, vectors, held, cfg, Path("s"), Path("m"))  # doctest: +SKIP
    >>> score(test, test_vectors)["correct"].mean()  # doctest: +SKIP
    0.87
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl

from factory.config import StudentConfig
from factory.errors import ConfigError

__all__ = ["STUDENT_TRAINERS", "Scorer", "train_student"]

Scorer = Callable[[pl.DataFrame, np.ndarray], pl.DataFrame]
"""(frame of doc_id, split, text, label; its vectors (n, d)) -> per-example results."""
Trainer = Callable[
    [
        pl.DataFrame,
        np.ndarray,
        pl.DataFrame,
        StudentConfig,
        Path,
        Path,
        Callable[[int, int], None] | None,
    ],
    Scorer,
]


def _head(
    rows: pl.DataFrame,
    vectors: np.ndarray,
    validation: pl.DataFrame,
    config: StudentConfig,
    out_dir: Path,
    models_dir: Path,
    progress: Callable[[int, int], None] | None,
) -> Scorer:
    from factory.training import evaluate_head, load_head, train_head

    result = train_head(vectors, rows["label"].to_list(), config, out_dir, progress)
    head = load_head(result.checkpoint_path)

    def score(frame: pl.DataFrame, frame_vectors: np.ndarray) -> pl.DataFrame:
        return evaluate_head(head, frame_vectors, frame)

    return score


def _llm(
    rows: pl.DataFrame,
    vectors: np.ndarray,
    validation: pl.DataFrame,
    config: StudentConfig,
    out_dir: Path,
    models_dir: Path,
    progress: Callable[[int, int], None] | None,
) -> Scorer:
    from factory.training import (
        evaluate_causal_lm,
        load_student,
        prepare_base_model,
        train_causal_lm,
        training_texts,
    )

    base = prepare_base_model(config.base_model, models_dir)
    texts = training_texts(rows, "classification")
    held = training_texts(validation.head(config.eval_documents), "classification")
    result = train_causal_lm(base, texts, held, config, out_dir, progress)
    model, tokenizer = load_student(base, result.checkpoint_path)
    labels = sorted(set(rows["label"].to_list()))

    def score(frame: pl.DataFrame, frame_vectors: np.ndarray) -> pl.DataFrame:
        return evaluate_causal_lm(
            model, tokenizer, frame, "classification", labels, config.max_length, batch_size=32
        )

    return score


STUDENT_TRAINERS: dict[str, Trainer] = {"classifier": _head, "llm": _llm}
"""Student trainers by `student.backend`."""


def train_student(
    rows: pl.DataFrame,
    vectors: np.ndarray,
    validation: pl.DataFrame,
    config: StudentConfig,
    out_dir: Path,
    models_dir: Path,
    progress: Callable[[int, int], None] | None = None,
) -> Scorer:
    """Train the student that `config.backend` names on `rows` (text, label) and `vectors`.

    `validation` (held-out labelled rows) gives the causal LM its before/after perplexity."""
    if config.backend not in STUDENT_TRAINERS:
        msg = f"unknown student {config.backend!r}; expected one of {sorted(STUDENT_TRAINERS)}"
        raise ConfigError(msg)
    trainer = STUDENT_TRAINERS[config.backend]
    return trainer(rows, vectors, validation, config, out_dir, models_dir, progress)
