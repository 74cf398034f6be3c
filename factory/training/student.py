"""One entry point that trains the student `student.backend` names, for the pipeline and the
experiments alike.

`classifier` trains the linear head on the rows' embedding vectors (labelled tasks only); `llm`
fine-tunes the causal LM (LoRA or full, `student.method`) on the rows' training texts, with the
perplexity of held-out rows before and after.

Example:
    >>> cfg = StudentConfig(backend="classifier")
    >>> fit_student(rows, "classification", cfg, Path("s"), vectors=vectors)  # doctest: +SKIP
    TrainResult(checkpoint_path=PosixPath('s'), ...)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from factory.config import StudentConfig
from factory.errors import ConfigError
from factory.training.base_model import BaseModelInfo
from factory.training.checkpoints import Progress, TrainResult

__all__ = ["STUDENT_BACKENDS", "check_student_task", "fit_student", "held_out_texts"]

STUDENT_BACKENDS = ("classifier", "llm")
"""The values of `student.backend`."""


def check_student_task(config: StudentConfig, kind: str) -> None:
    """Raise `ConfigError` when `student.backend` is unknown or cannot learn task `kind`."""
    if config.backend not in STUDENT_BACKENDS:
        msg = f"unknown student {config.backend!r}; expected one of {sorted(STUDENT_BACKENDS)}"
        raise ConfigError(msg)
    if config.backend == "classifier" and kind != "classification":
        msg = (
            f"student.backend: classifier needs task.kind: classification (got {kind!r}); "
            "use student.backend: llm for text and qa"
        )
        raise ConfigError(msg)


def held_out_texts(eval_rows: pl.DataFrame | None, kind: str, config: StudentConfig) -> list[str]:
    """The training texts of the first `student.eval_documents` held-out rows (perplexity)."""
    from factory.training.texts import training_texts

    if eval_rows is None or eval_rows.height == 0:
        return []
    return training_texts(eval_rows.head(config.eval_documents), kind)


def fit_student(
    rows: pl.DataFrame,
    kind: str,
    config: StudentConfig,
    out_dir: Path,
    *,
    vectors: np.ndarray | None = None,
    eval_rows: pl.DataFrame | None = None,
    base: BaseModelInfo | None = None,
    progress: Progress | None = None,
) -> TrainResult:
    """Train on `rows` (text plus `label` or `answer` as `kind` needs) and save into `out_dir`.

    The head needs `vectors` (one per row, shape (n, d)); the causal LM needs `base` and reports
    perplexity on `eval_rows`.
    """
    check_student_task(config, kind)
    if config.backend == "classifier":
        from factory.training.classifier import train_head

        if vectors is None or len(vectors) != rows.height:
            got = "none" if vectors is None else str(len(vectors))
            msg = f"the classifier head needs one vector per row: {rows.height} rows, {got} vectors"
            raise ConfigError(msg)
        return train_head(vectors, rows["label"].to_list(), config, out_dir, progress)
    from factory.training.causal_lm import train_causal_lm
    from factory.training.texts import training_texts

    if base is None:
        msg = "student.backend: llm needs its base model; pass base=prepare_base_model(...)"
        raise ConfigError(msg)
    texts = training_texts(rows, kind)
    held = held_out_texts(eval_rows, kind, config)
    return train_causal_lm(base, texts, held, config, out_dir, progress)
