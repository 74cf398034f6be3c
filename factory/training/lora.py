"""LoRA fine-tuning of the student with TRL `SFTTrainer` + PEFT, with perplexity before/after.

Only the adapter (plus the tokenizer and `factory_training.json`) is saved: a few MB. It is
written to a temporary folder beside `output_dir` and renamed into place, so `output_dir` is never
half-written. CPU runs in fp32; a CUDA GPU trains in bf16 mixed precision.

Example:
    >>> base = prepare_base_model(None, Path(".factory/models"))  # doctest: +SKIP
    >>> result = train_lora(base, texts, held, StudentConfig(), Path("s"))  # doctest: +SKIP
    >>> result.perplexity_after < result.perplexity_before  # doctest: +SKIP
    True
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.errors import BackendError, FactoryError
from factory.hashing import hash_files
from factory.training.base_model import BaseModelInfo
from factory.training.loading import load_student, quiet_peft_warnings, resolve_training_device
from factory.training.perplexity import perplexity

if TYPE_CHECKING:
    from factory.config import StudentConfig

__all__ = ["LORA_DROPOUT", "LORA_TARGET_MODULES", "TrainResult", "hash_checkpoint", "train_lora"]

logger = logging.getLogger("factory.training")

LORA_TARGET_MODULES: tuple[str, ...] = ("q_proj", "v_proj")
LORA_DROPOUT = 0.05
TRAINING_INFO = "factory_training.json"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TrainResult:
    """A saved LoRA adapter, its hash and the run's figures."""

    checkpoint_path: Path
    checkpoint_hash: str
    steps: int
    perplexity_before: float
    perplexity_after: float
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    """Wall time of the whole call (load, both perplexities, training, saving)."""
    train_seconds: float = 0.0
    """Wall time of the optimizer steps alone."""


def hash_checkpoint(folder: Path) -> str:
    """SHA-256 over every file of an adapter folder (relative paths and contents)."""
    folder = Path(folder)
    return hash_files([p for p in folder.rglob("*") if p.is_file()], root=folder)


def train_lora(
    base: BaseModelInfo,
    train_texts: list[str],
    eval_texts: list[str],
    config: StudentConfig,
    output_dir: Path,
    progress: Progress | None = None,
) -> TrainResult:
    """Fine-tune a LoRA adapter on `train_texts`; perplexity on `eval_texts` before and after."""
    started = time.perf_counter()
    _check_texts(train_texts, "train_texts")
    _check_texts(eval_texts, "eval_texts")
    try:
        import torch
        from datasets import Dataset
        from peft import LoraConfig
        from transformers.trainer_callback import PrinterCallback
        from trl import SFTConfig, SFTTrainer
    except ImportError as exc:
        msg = f"training the student needs {exc.name}; run `pip install 'factory-data[llm]'`"
        raise BackendError(msg) from exc

    on_gpu = resolve_training_device() == "cuda"
    bf16 = on_gpu and torch.cuda.is_bf16_supported()
    model, tokenizer = load_student(base)
    ppl_before = perplexity(model, tokenizer, eval_texts, config.max_length)
    logger.info(
        "base perplexity %.3f on %d eval texts; training %d steps on %d texts (%s)",
        ppl_before, len(eval_texts), config.max_steps, len(train_texts),
        "bf16 on cuda" if bf16 else ("fp32 on cuda" if on_gpu else "fp32 on cpu"),
    )  # fmt: skip

    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{output_dir.name}.tmp-"
    with tempfile.TemporaryDirectory(dir=output_dir.parent, prefix=prefix) as tmp:
        args = SFTConfig(
            output_dir=str(Path(tmp) / "trainer"),
            max_steps=config.max_steps,
            per_device_train_batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            max_length=config.max_length,
            seed=config.seed,
            data_seed=config.seed,
            dataset_text_field="text",
            packing=False,
            eval_strategy="no",
            save_strategy="no",
            logging_strategy="steps",
            logging_steps=1,
            report_to="none",
            disable_tqdm=True,
            use_cpu=not on_gpu,
            bf16=bf16,
            activation_checkpointing=False,
            dataloader_pin_memory=on_gpu,
        )
        peft_config = LoraConfig(
            r=config.lora_r,
            lora_alpha=config.lora_alpha,
            lora_dropout=LORA_DROPOUT,
            target_modules=list(LORA_TARGET_MODULES),
            task_type="CAUSAL_LM",
        )
        hyperparameters = _hyperparameters(config, args, bf16)
        train_started = time.perf_counter()
        try:
            with quiet_peft_warnings():
                trainer = SFTTrainer(
                    model=model,
                    args=args,
                    train_dataset=Dataset.from_dict({"text": list(train_texts)}),
                    processing_class=tokenizer,
                    peft_config=peft_config,
                    callbacks=[_step_callback(progress)],
                )
                trainer.remove_callback(PrinterCallback)
                train_started = time.perf_counter()
                trainer.train()
        except (RuntimeError, ValueError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            msg = (
                f"LoRA training of {str(base.path)!r} failed: {reason}; the student needs a "
                f"causal LM with {list(LORA_TARGET_MODULES)} attention layers, one visible GPU at "
                "most, and a smaller `student.batch_size` or `student.max_length` if memory ran out"
            )
            raise BackendError(msg) from exc
        train_seconds = time.perf_counter() - train_started
        steps = int(trainer.state.global_step)
        trained = trainer.model
        ppl_after = perplexity(trained, tokenizer, eval_texts, config.max_length)

        staging = Path(tmp) / "adapter"
        trained.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        info = {"base_fingerprint": base.fingerprint, "hyperparameters": hyperparameters}
        (staging / TRAINING_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        _replace_dir(staging, output_dir, Path(tmp) / "previous")

    checkpoint_hash = hash_checkpoint(output_dir)
    seconds = time.perf_counter() - started
    logger.info(
        "trained %d steps in %.1f s (%.2f s/step); perplexity %.3f -> %.3f; adapter %s",
        steps, train_seconds, train_seconds / max(steps, 1), ppl_before, ppl_after, output_dir,
    )  # fmt: skip
    return TrainResult(
        checkpoint_path=output_dir,
        checkpoint_hash=checkpoint_hash,
        steps=steps,
        perplexity_before=ppl_before,
        perplexity_after=ppl_after,
        hyperparameters=hyperparameters,
        seconds=seconds,
        train_seconds=train_seconds,
    )


def _check_texts(texts: list[str], name: str) -> None:
    if not texts:
        msg = f"{name} is empty; train_lora needs at least one text in each of train and eval"
        raise FactoryError(msg)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        msg = (
            f"{name} has {len(bad)} empty or non-string entries (first at index {bad[0]}); "
            "drop them before training"
        )
        raise FactoryError(msg)


def _hyperparameters(config: StudentConfig, args: Any, bf16: bool) -> dict[str, Any]:
    """The JSON-ready training parameters, including the trainer defaults that matter."""
    return {
        "method": "lora",
        "lora_r": config.lora_r,
        "lora_alpha": config.lora_alpha,
        "lora_dropout": LORA_DROPOUT,
        "target_modules": list(LORA_TARGET_MODULES),
        "max_steps": config.max_steps,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "max_length": config.max_length,
        "seed": config.seed,
        "optimizer": str(getattr(args.optim, "value", args.optim)),
        "lr_scheduler": str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
        "warmup_steps": args.warmup_steps,
        "weight_decay": args.weight_decay,
        "max_grad_norm": args.max_grad_norm,
        "packing": False,
        "precision": "bf16" if bf16 else "fp32",
    }


def _replace_dir(new: Path, target: Path, trash: Path) -> None:
    """Rename `new` to `target`; an existing `target` is moved to `trash` first."""
    if target.exists():
        os.rename(target, trash)
    os.rename(new, target)


def _step_callback(progress: Progress | None) -> Any:
    """A transformers TrainerCallback that reports each step and logs the loss."""
    from transformers import TrainerCallback

    class _StepCallback(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if progress is not None:
                progress(int(state.global_step), int(state.max_steps))

        def on_log(
            self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any
        ) -> None:
            if logs and "loss" in logs:
                logger.info(
                    "step %d/%d loss %.4f", state.global_step, state.max_steps, float(logs["loss"])
                )

    return _StepCallback()
