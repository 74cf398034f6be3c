"""Load the student for scoring: the prepared base model, optionally with a saved LoRA adapter.

Example:
    >>> model, tokenizer = load_student(base, Path("student"))  # doctest: +SKIP
    >>> perplexity(model, tokenizer, held_out, max_length=128)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from factory.errors import BackendError, ConfigError
from factory.training.base_model import BaseModelInfo

__all__ = ["load_student", "quiet_peft_warnings", "resolve_training_device"]


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


def load_student(
    base: BaseModelInfo, checkpoint: Path | None = None, device: str = "auto"
) -> tuple[Any, Any]:
    """(model, tokenizer) in eval mode: the fp32 base, plus the adapter at `checkpoint` if given."""
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        msg = f"loading the student needs {exc.name}; run `pip install 'factory-data[llm]'`"
        raise BackendError(msg) from exc
    source = base.path if checkpoint is None else Path(checkpoint)
    if checkpoint is not None and not (source / "adapter_config.json").is_file():
        msg = (
            f"checkpoint {str(source)!r} has no adapter_config.json; pass the folder that "
            "train_lora wrote (TrainResult.checkpoint_path)"
        )
        raise ConfigError(msg)
    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(base.path, dtype=torch.float32)
    if checkpoint is not None:
        from peft import PeftModel

        with quiet_peft_warnings():
            model = PeftModel.from_pretrained(model, source)
    model.to(resolve_training_device(device))
    model.eval()
    return model, tokenizer
