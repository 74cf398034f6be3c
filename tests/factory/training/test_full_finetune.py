"""Full fine-tuning and method dispatch, on a tiny random-init Llama with SmolLM2's tokenizer."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from factory.config import StudentConfig
from factory.errors import ConfigError
from factory.training import (
    BaseModelInfo,
    TrainResult,
    evaluate_causal_lm,
    load_student,
    train_causal_lm,
)
from factory.training.checkpoints import hash_checkpoint
from factory.training.loading import checkpoint_kind
from factory.training.perplexity import perplexity


@pytest.fixture(scope="module")
def full_run(
    tiny_base: BaseModelInfo,
    banking_training_texts: list[str],
    tmp_path_factory: pytest.TempPathFactory,
) -> TrainResult:
    """Two full fine-tuning steps of the tiny base on banking77 texts."""
    config = StudentConfig(
        method="full", max_steps=2, batch_size=2, max_length=32, learning_rate=1e-3, seed=0
    )
    out = tmp_path_factory.mktemp("full") / "runs" / "student"
    return train_causal_lm(
        tiny_base, banking_training_texts[:8], banking_training_texts[8:12], config, out
    )


def test_full_fine_tune_saves_the_whole_model(
    full_run: TrainResult, tiny_base: BaseModelInfo
) -> None:
    out = full_run.checkpoint_path
    assert full_run.steps == 2
    names = {p.name for p in out.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "factory_training.json"} <= names
    assert "adapter_config.json" not in names
    assert [p.name for p in out.parent.iterdir()] == ["student"]  # no staging folder left
    assert checkpoint_kind(out) == "full"
    assert full_run.checkpoint_hash == hash_checkpoint(out)
    hp = full_run.hyperparameters
    assert hp["method"] == "full"
    assert "lora_r" not in hp
    assert (hp["max_steps"], hp["batch_size"], hp["max_length"]) == (2, 2, 32)
    info = json.loads((out / "factory_training.json").read_text())
    assert info == {
        "base_fingerprint": tiny_base.fingerprint,
        "hyperparameters": hp,
        "steps": 2,
        "perplexity_before": full_run.perplexity_before,
        "perplexity_after": full_run.perplexity_after,
    }  # the checkpoint's one record: `load_train_result` reads the run back from it
    for value in (full_run.perplexity_before, full_run.perplexity_after):
        assert value is not None
        assert math.isfinite(value)
        assert value > 1.0


def test_the_full_checkpoint_reloads_with_its_trained_weights(
    full_run: TrainResult, tiny_base: BaseModelInfo, banking_training_texts: list[str]
) -> None:
    import torch

    model, tokenizer = load_student(tiny_base, full_run.checkpoint_path, device="cpu")
    again = perplexity(model, tokenizer, banking_training_texts[8:12], max_length=32)
    assert again == pytest.approx(full_run.perplexity_after, rel=1e-4)
    base, _ = load_student(tiny_base, device="cpu")
    changed = [
        name
        for (name, trained), (_, original) in zip(
            model.named_parameters(), base.named_parameters(), strict=True
        )
        if not torch.equal(trained, original)
    ]
    assert "model.layers.0.mlp.down_proj.weight" in changed  # not only attention: every weight
    assert "model.layers.0.self_attn.k_proj.weight" in changed


def test_a_checkpoint_is_loaded_only_onto_its_own_base(
    full_run: TrainResult, base_model: BaseModelInfo
) -> None:
    with pytest.raises(ConfigError, match="was trained from base"):
        load_student(base_model, full_run.checkpoint_path)


def test_lora_stays_the_default_method(
    tiny_base: BaseModelInfo, banking_training_texts: list[str], tmp_path: Path
) -> None:
    config = StudentConfig(max_steps=1, batch_size=2, max_length=32)
    assert config.method == "lora"
    result = train_causal_lm(
        tiny_base, banking_training_texts[:4], banking_training_texts[4:6], config, tmp_path / "s"
    )
    assert checkpoint_kind(result.checkpoint_path) == "lora"
    assert not (result.checkpoint_path / "model.safetensors").exists()
    assert result.hyperparameters["method"] == "lora"
    assert result.hyperparameters["lora_r"] == config.lora_r
    model, tokenizer = load_student(tiny_base, result.checkpoint_path, device="cpu")
    again = perplexity(model, tokenizer, banking_training_texts[4:6], max_length=32)
    assert again == pytest.approx(result.perplexity_after, rel=1e-4)
    # the reloaded adapter (a PeftModel) decodes with the KV cache like a plain model
    labels = ["card_arrival", "exchange_rate", "pin_blocked"]
    frame = pl.DataFrame(
        {"doc_id": ["a", "b"], "split": ["validation", "test"],
         "text": ["Where is my card?", "What rate do you use?"], "label": labels[:2]}
    )  # fmt: skip
    rows = evaluate_causal_lm(model, tokenizer, frame, "classification", labels, 32)
    assert set(rows["prediction"]) <= set(labels)
    assert rows["nll"].null_count() == 0


def test_an_unknown_folder_names_both_checkpoint_kinds(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(ConfigError, match=r"no adapter_config\.json.*no config\.json.*notes\.txt"):
        checkpoint_kind(tmp_path)
