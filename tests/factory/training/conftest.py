"""Training-test fixtures: the real SmolLM2 base model, prepared once, and banking77 rows."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.training import BaseModelInfo, prepare_base_model, training_texts


@pytest.fixture(scope="session")
def student_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty model cache folder for the whole session."""
    return tmp_path_factory.mktemp("student-cache")


@pytest.fixture(scope="session")
def prepared_base(student_cache: Path) -> tuple[BaseModelInfo, float]:
    """SmolLM2-135M dequantized from its packaged GGUF into the cache, with the seconds it took."""
    try:
        from factory.models import smollm2_gguf_path

        smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")
    started = time.perf_counter()
    info = prepare_base_model(None, student_cache)
    return info, time.perf_counter() - started


@pytest.fixture(scope="session")
def base_model(prepared_base: tuple[BaseModelInfo, float]) -> BaseModelInfo:
    """The prepared base model folder and fingerprint."""
    return prepared_base[0]


@pytest.fixture(scope="session")
def base_lm(base_model: BaseModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) loaded from the prepared folder on the CPU, fp32."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_model.path)
    model = AutoModelForCausalLM.from_pretrained(base_model.path, dtype=torch.float32)
    return model, tokenizer


@pytest.fixture(scope="session")
def banking_texts(banking77_slice: Path) -> list[str]:
    """The first 16 banking77 train rows as classification training texts."""
    frame = pl.read_csv(banking77_slice).head(16).rename({"category": "label"})
    return training_texts(frame, "classification")
