"""Student training and evaluation: the base model, training texts, LoRA or full fine-tuning of a
causal LM, a linear classifier head on embeddings, perplexity and per-example evaluation.

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

from factory.training.base_model import BaseModelInfo, model_fingerprint_files, prepare_base_model
from factory.training.causal_lm import (
    LORA_DROPOUT,
    LORA_TARGET_MODULES,
    METHODS,
    train_causal_lm,
)
from factory.training.checkpoints import TRAINING_INFO, Progress, TrainResult, hash_checkpoint
from factory.training.classifier import LinearHead, load_head, train_head
from factory.training.evaluate import (
    EvaluationSummary,
    evaluate_causal_lm,
    evaluate_head,
    label_token_sequences,
    normalize_answer,
    summarize,
)
from factory.training.loading import checkpoint_kind, load_student, resolve_training_device
from factory.training.perplexity import perplexity, token_nll
from factory.training.student import (
    STUDENT_BACKENDS,
    check_student_task,
    fit_student,
    held_out_texts,
)
from factory.training.texts import TASK_TEMPLATES, format_prompt, training_texts

__all__ = [
    "LORA_DROPOUT",
    "LORA_TARGET_MODULES",
    "METHODS",
    "STUDENT_BACKENDS",
    "TASK_TEMPLATES",
    "TRAINING_INFO",
    "BaseModelInfo",
    "EvaluationSummary",
    "LinearHead",
    "Progress",
    "TrainResult",
    "check_student_task",
    "checkpoint_kind",
    "evaluate_causal_lm",
    "evaluate_head",
    "fit_student",
    "format_prompt",
    "hash_checkpoint",
    "held_out_texts",
    "label_token_sequences",
    "load_head",
    "load_student",
    "model_fingerprint_files",
    "normalize_answer",
    "perplexity",
    "prepare_base_model",
    "resolve_training_device",
    "summarize",
    "token_nll",
    "train_causal_lm",
    "train_head",
    "training_texts",
]
