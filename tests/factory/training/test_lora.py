"""LoRA fine-tuning of the real SmolLM2-135M with TRL + PEFT (tiny runs on the CPU)."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

from factory.config import StudentConfig
from factory.errors import BackendError, ConfigError, FactoryError
from factory.training import BaseModelInfo, load_student, prepare_base_model, train_causal_lm
from factory.training.causal_lm import LORA_TARGET_MODULES
from factory.training.checkpoints import hash_checkpoint
from factory.training.perplexity import perplexity


def test_three_steps_save_a_hashed_adapter(
    base_model: BaseModelInfo,
    banking_training_texts: list[str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = StudentConfig(method="lora", max_steps=3, batch_size=2, max_length=48, seed=0)
    calls: list[tuple[int, int]] = []
    out = tmp_path / "runs" / "student"
    with caplog.at_level(logging.INFO, logger="factory.training"):
        result = train_causal_lm(
            base_model,
            banking_training_texts[:12],
            banking_training_texts[12:],
            config,
            out,
            progress=lambda done, total: calls.append((done, total)),
        )
    per_step = result.train_seconds / result.steps
    print(f"\n3 steps: {per_step:.2f} s/step, whole call {result.seconds:.1f} s")
    assert result.steps == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    assert result.checkpoint_path == out
    names = {p.name for p in out.iterdir()}
    assert {"adapter_model.safetensors", "adapter_config.json", "tokenizer.json"} <= names
    assert "model.safetensors" not in names  # the adapter only, not the base weights
    assert (out / "adapter_model.safetensors").stat().st_size < 20_000_000
    assert result.checkpoint_hash == hash_checkpoint(out) == hash_checkpoint(out)
    assert [p.name for p in out.parent.iterdir()] == ["student"]  # no temp folder left
    for value in (result.perplexity_before, result.perplexity_after):
        assert math.isfinite(value)
        assert value > 1.0
    adapter = json.loads((out / "adapter_config.json").read_text())
    assert adapter["r"] == config.lora_r
    assert adapter["lora_alpha"] == config.lora_alpha
    assert sorted(adapter["target_modules"]) == sorted(LORA_TARGET_MODULES)
    info = json.loads((out / "factory_training.json").read_text())
    assert info["base_fingerprint"] == base_model.fingerprint
    assert info["hyperparameters"] == json.loads(json.dumps(result.hyperparameters))
    hp = result.hyperparameters
    assert (hp["max_steps"], hp["batch_size"], hp["max_length"]) == (3, 2, 48)
    assert hp["learning_rate"] == config.learning_rate
    assert hp["precision"] in {"fp32", "bf16"}
    assert any("step 3/3 loss" in r.getMessage() for r in caplog.records)
    assert any("perplexity" in r.getMessage() for r in caplog.records)


def test_training_lowers_perplexity_on_its_texts_and_the_saved_adapter_matches(
    base_model: BaseModelInfo, banking_training_texts: list[str], tmp_path: Path
) -> None:
    config = StudentConfig(
        method="lora", max_steps=8, batch_size=2, max_length=48, learning_rate=1e-3, seed=0
    )
    out = tmp_path / "student"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    result = train_causal_lm(
        base_model, banking_training_texts, banking_training_texts, config, out
    )
    print(
        f"\n8 steps: {result.train_seconds / result.steps:.2f} s/step; perplexity "
        f"{result.perplexity_before:.2f} -> {result.perplexity_after:.2f}"
    )
    assert result.steps == 8
    assert result.perplexity_after < result.perplexity_before
    assert not (out / "stale.txt").exists()  # the previous folder was replaced whole

    reloaded, tokenizer = load_student(base_model, out)
    again = perplexity(reloaded, tokenizer, banking_training_texts, max_length=config.max_length)
    assert again == pytest.approx(result.perplexity_after, rel=1e-3)


def test_empty_texts_are_refused_before_loading(base_model: BaseModelInfo, tmp_path: Path) -> None:
    with pytest.raises(FactoryError, match="train_texts is empty"):
        train_causal_lm(base_model, [], ["x y"], StudentConfig(method="lora"), tmp_path / "s")
    with pytest.raises(FactoryError, match=r"eval_texts has 1 empty.*index 1"):
        train_causal_lm(
            base_model, ["a b"], ["x y", "  "], StudentConfig(method="lora"), tmp_path / "s"
        )
    assert not (tmp_path / "s").exists()


def test_loading_a_folder_without_adapter_says_what_to_pass(
    base_model: BaseModelInfo, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"no adapter_config\.json"):
        load_student(base_model, tmp_path)


def test_model_without_lora_targets_fails_with_the_reason(
    base_model: BaseModelInfo, banking_training_texts: list[str], tmp_path: Path
) -> None:
    import shutil

    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path / "tiny-gpt2"
    config = GPT2Config(
        vocab_size=49152, n_embd=16, n_layer=1, n_head=2, n_positions=64, bos_token_id=1,
        eos_token_id=2,
    )  # fmt: skip
    GPT2LMHeadModel(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(base_model.path / name, folder / name)
    tiny = prepare_base_model(folder, tmp_path / "cache")
    out = tmp_path / "runs" / "student"
    cfg = StudentConfig(method="lora", max_steps=1, batch_size=2, max_length=16)
    with pytest.raises(BackendError, match=r"failed: .*q_proj.*attention layers"):
        train_causal_lm(tiny, banking_training_texts[:4], banking_training_texts[:2], cfg, out)
    assert not out.exists()
    assert list(out.parent.iterdir()) == []  # the temp folder was removed
