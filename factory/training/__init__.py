"""Student training and evaluation: the base model, training texts, LoRA or full fine-tuning of a
causal LM, a linear classifier head on embeddings, perplexity and per-example evaluation, and
the pipeline's student steps (`fit_round_student`, `evaluate_round_student`) with their reuse.

Example:
    >>> from factory.config import StudentConfig
    >>> base = prepare_base_model(None, Path(".factory/models"))  # doctest: +SKIP
    >>> texts = training_texts(train_frame, "classification")  # doctest: +SKIP
    >>> result = train_causal_lm(base, texts, held, StudentConfig(), Path("s"))  # doctest: +SKIP
    >>> model, tokenizer = load_student(base, result.checkpoint_path)  # doctest: +SKIP
    >>> rows = evaluate_causal_lm(model, tokenizer, frame, "qa", None, 128)  # doctest: +SKIP
    >>> summarize(rows).exact_match  # doctest: +SKIP
"""

from __future__ import annotations

from factory.training.base_model import BaseModelInfo, prepare_base_model
from factory.training.causal_lm import train_causal_lm
from factory.training.checkpoints import TrainResult
from factory.training.classifier import load_head, train_head
from factory.training.evaluate import (
    EvaluationSummary,
    evaluate_causal_lm,
    evaluate_head,
    summarize,
)
from factory.training.loading import load_student, resolve_training_device
from factory.training.rounds import (
    FittedStudent,
    evaluate_round_student,
    evaluation_documents,
    fit_round_student,
)
from factory.training.student import check_student_task, fit_student, held_out_texts
from factory.training.texts import training_texts

__all__ = [
    "BaseModelInfo",
    "EvaluationSummary",
    "FittedStudent",
    "TrainResult",
    "check_student_task",
    "evaluate_causal_lm",
    "evaluate_head",
    "evaluate_round_student",
    "evaluation_documents",
    "fit_round_student",
    "fit_student",
    "held_out_texts",
    "load_head",
    "load_student",
    "prepare_base_model",
    "resolve_training_device",
    "summarize",
    "train_causal_lm",
    "train_head",
    "training_texts",
]
