"""The experiment's student: `factory.training.fit_student`, then a scorer over held-out rows.

A trained student is returned as a `Scorer`: per-example results (`evaluate_head` /
`evaluate_causal_lm` columns, with `correct`) on any labelled frame. `classifier` is the light
linear head on the embedder's vectors; `llm` fine-tunes the causal LM (LoRA or full,
`student.method`) and decodes labels under constraint.

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
from factory.training.student import STUDENT_BACKENDS, fit_student

__all__ = ["STUDENT_BACKENDS", "Scorer", "train_student"]

Scorer = Callable[[pl.DataFrame, np.ndarray], pl.DataFrame]
"""(frame of doc_id, split, text, label; its vectors (n, d)) -> per-example results."""


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
    from factory.training import (
        evaluate_causal_lm,
        evaluate_head,
        load_head,
        load_student,
        prepare_base_model,
    )

    kind = "classification"
    base = prepare_base_model(config.base_model, models_dir) if config.backend == "llm" else None
    result = fit_student(
        rows, kind, config, out_dir,
        vectors=vectors, eval_rows=validation, base=base, progress=progress,
    )  # fmt: skip
    if base is None:
        head = load_head(result.checkpoint_path)
        return lambda frame, frame_vectors: evaluate_head(head, frame_vectors, frame)
    model, tokenizer = load_student(base, result.checkpoint_path)
    labels = sorted(set(rows["label"].to_list()))

    def score(frame: pl.DataFrame, frame_vectors: np.ndarray) -> pl.DataFrame:
        return evaluate_causal_lm(
            model, tokenizer, frame, kind, labels, config.max_length, batch_size=32
        )

    return score
