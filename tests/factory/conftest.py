"""Factory-test fixtures: the real SmolLM2 base (prepared once) and a tiny Llama built from it."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from factory.training import BaseModelInfo, prepare_base_model


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
def tiny_llama(base_model: BaseModelInfo, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-init one-layer Llama folder (hidden 32) with the SmolLM2 tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(base_model.path)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
        tie_word_embeddings=False, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    for path in base_model.path.iterdir():
        if path.name.startswith(("tokenizer", "special_tokens")):
            shutil.copy(path, folder / path.name)
    return folder
