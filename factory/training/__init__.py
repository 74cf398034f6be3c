"""Student training: the base model (GGUF dequantized once), training texts, LoRA, perplexity.

Example:
    >>> from factory.config import StudentConfig
    >>> base = prepare_base_model(None, Path(".factory/models"))  # doctest: +SKIP
    >>> texts = training_texts(train_frame, "classification")  # doctest: +SKIP
    >>> result = train_lora(base, texts, held, StudentConfig(), Path("s"))  # doctest: +SKIP
"""

from __future__ import annotations

from factory.training.base_model import BaseModelInfo, model_fingerprint_files, prepare_base_model
from factory.training.loading import load_student, resolve_training_device
from factory.training.lora import (
    LORA_DROPOUT,
    LORA_TARGET_MODULES,
    TrainResult,
    hash_checkpoint,
    train_lora,
)
from factory.training.perplexity import perplexity
from factory.training.texts import TASK_TEMPLATES, format_prompt, training_texts

__all__ = [
    "LORA_DROPOUT",
    "LORA_TARGET_MODULES",
    "TASK_TEMPLATES",
    "BaseModelInfo",
    "TrainResult",
    "format_prompt",
    "hash_checkpoint",
    "load_student",
    "model_fingerprint_files",
    "perplexity",
    "prepare_base_model",
    "resolve_training_device",
    "train_lora",
    "training_texts",
]
