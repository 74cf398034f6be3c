"""Training-test fixtures: the base loaded for training, banking77 rows, the tiny Llama as a base
(the SmolLM2 base and the tiny Llama folder come from tests/factory/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.training import BaseModelInfo, prepare_base_model, training_texts


@pytest.fixture(scope="session")
def base_lm(base_model: BaseModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) loaded from the prepared folder on the CPU, fp32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_model.path)
    model = AutoModelForCausalLM.from_pretrained(base_model.path, dtype=torch.float32)
    return model, tokenizer


@pytest.fixture(scope="session")
def banking_training_texts(banking77_slice: Path) -> list[str]:
    """The first 16 banking77 train rows as classification training texts."""
    frame = pl.read_csv(banking77_slice).head(16).rename({"category": "label"})
    return training_texts(frame, "classification")


@pytest.fixture(scope="session")
def tiny_base(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> BaseModelInfo:
    """The tiny random-init Llama as a prepared base (hashed by its files)."""
    return prepare_base_model(tiny_llama, tmp_path_factory.mktemp("tiny-cache"))


@pytest.fixture(scope="session")
def tiny_lm(tiny_base: BaseModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) of the tiny random-init base on the CPU, eval mode."""
    from factory.training import load_student

    return load_student(tiny_base, device="cpu")
