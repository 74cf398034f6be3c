"""The student base model: GGUF dequantized once into the cache; HF folders used as they are."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from factory.errors import ConfigError
from factory.hashing import hash_file, hash_files
from factory.models import smollm2_gguf_path
from factory.training import BaseModelInfo, prepare_base_model
from factory.training.base_model import model_fingerprint_files


def test_gguf_is_dequantized_into_a_complete_cached_folder(
    prepared_base: tuple[BaseModelInfo, float], student_cache: Path
) -> None:
    info, _ = prepared_base
    assert info.fingerprint == hash_file(smollm2_gguf_path())
    assert info.path == student_cache / f"base-{info.fingerprint[:16]}"
    names = {p.name for p in info.path.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
    assert (info.path / "model.safetensors").stat().st_size > 400_000_000  # fp32, 134.5M params
    assert "quantization_config" not in (info.path / "config.json").read_text()
    assert [p.name for p in student_cache.iterdir()] == [info.path.name]  # no temp folder left


def test_second_call_reuses_the_folder(
    prepared_base: tuple[BaseModelInfo, float], student_cache: Path
) -> None:
    info, first_seconds = prepared_base
    weights = info.path / "model.safetensors"
    mtime = weights.stat().st_mtime_ns
    started = time.perf_counter()
    again = prepare_base_model(smollm2_gguf_path(), student_cache)
    seconds = time.perf_counter() - started
    assert again == info
    assert weights.stat().st_mtime_ns == mtime
    assert seconds < 5.0
    assert seconds < first_seconds / 2


def test_prepared_folder_as_source_keeps_the_gguf_fingerprint(base_model: BaseModelInfo) -> None:
    assert prepare_base_model(base_model.path, Path("unused")) == base_model


def test_plain_hf_folder_is_used_as_is_and_hashed_by_its_files(tmp_path: Path) -> None:
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32,
    )  # fmt: skip
    folder = tmp_path / "tiny"
    LlamaForCausalLM(config).save_pretrained(folder)
    info = prepare_base_model(folder, tmp_path / "cache")
    assert info.path == folder.resolve()
    files = model_fingerprint_files(folder)
    assert {"config.json", "model.safetensors"} <= {p.name for p in files}
    assert info.fingerprint == hash_files(files, root=folder)
    assert not (tmp_path / "cache").exists()
    (folder / "notes.txt").write_text("not part of the model")
    assert prepare_base_model(folder, tmp_path / "cache").fingerprint == info.fingerprint
    config.num_attention_heads = 4
    config.save_pretrained(folder)
    assert prepare_base_model(folder, tmp_path / "cache").fingerprint != info.fingerprint


def test_missing_source_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; set `student.base_model`"):
        prepare_base_model(tmp_path / "nope.gguf", tmp_path)


def test_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\0" * 8)
    with pytest.raises(ConfigError, match=r"not a \.gguf file"):
        prepare_base_model(path, tmp_path)


def test_folder_without_a_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hello")
    with pytest.raises(ConfigError, match=r"is not a Hugging Face model.*readme.md"):
        prepare_base_model(tmp_path, tmp_path / "cache")
