"""Load the student for scoring: the prepared base, a base + LoRA adapter, or a full checkpoint.

A checkpoint folder is recognised by its files: `adapter_config.json` is a PEFT LoRA adapter
(loaded onto `base`); `config.json` with safetensors or .bin weights is a whole model (loaded
alone). When the folder's `factory_training.json` names a base fingerprint, it must be `base`'s.

Example:
    >>> model, tokenizer = load_student(base, Path("student"))  # doctest: +SKIP
    >>> perplexity(model, tokenizer, held_out, max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from factory.errors import BackendError, ConfigError
from factory.training.base_model import BaseModelInfo
from factory.training.checkpoints import TRAINING_INFO, read_training_info

__all__ = ["checkpoint_kind", "load_student", "quiet_peft_warnings", "resolve_training_device"]

_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json")


def resolve_training_device(device: str = "auto") -> str:
    """`auto` becomes cuda when a GPU is present, else cpu; other values pass through."""
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def quiet_peft_warnings() -> Iterator[None]:
    """Hide peft's use of transformers' deprecated `is_gradient_checkpointing` alias."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*is_gradient_checkpointing.*", FutureWarning)
        yield


def checkpoint_kind(folder: Path) -> Literal["lora", "full"]:
    """`lora` for a PEFT adapter folder, `full` for a whole-model folder; ConfigError otherwise."""
    folder = Path(folder)
    if (folder / "adapter_config.json").is_file():
        return "lora"
    if (folder / "config.json").is_file() and any(
        p.name.endswith(_WEIGHT_SUFFIXES) for p in folder.iterdir() if p.is_file()
    ):
        return "full"
    found = sorted(p.name for p in folder.iterdir())[:10] if folder.is_dir() else "no such folder"
    msg = (
        f"checkpoint {str(folder)!r} has no adapter_config.json (a LoRA adapter) and no "
        f"config.json with weights (a full model); found {found}; pass the folder that "
        "train_causal_lm wrote (TrainResult.checkpoint_path)"
    )
    raise ConfigError(msg)


def load_student(
    base: BaseModelInfo, checkpoint: Path | None = None, device: str = "auto"
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode, fp32: the base, or the checkpoint trained from it."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        msg = f"loading the student needs {exc.name}; run `pip install 'factory-data[llm]'`"
        raise BackendError(msg) from exc
    source = base.path if checkpoint is None else Path(checkpoint)
    kind = None if checkpoint is None else checkpoint_kind(source)
    if checkpoint is not None:
        _check_base(source, base)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    weights = source if kind == "full" else base.path
    model = AutoModelForCausalLM.from_pretrained(weights, dtype=torch.float32)
    if kind == "lora":
        from peft import PeftModel

        with quiet_peft_warnings():
            model = PeftModel.from_pretrained(model, source)
    model.to(resolve_training_device(device))
    model.eval()
    return model, tokenizer


def _check_base(folder: Path, base: BaseModelInfo) -> None:
    info = read_training_info(folder) or {}
    trained_from = info.get("base_fingerprint")
    if trained_from is not None and trained_from != base.fingerprint:
        msg = (
            f"checkpoint {str(folder)!r} was trained from base {trained_from[:16]}..., not from "
            f"{str(base.path)!r} ({base.fingerprint[:16]}...; see its {TRAINING_INFO}); load it "
            "with the base it was trained from"
        )
        raise ConfigError(msg)
