"""Fine-tuning the causal-LM student with TRL `SFTTrainer`: a PEFT LoRA adapter or every weight.

`student.method` picks the method. `lora` saves only the adapter (a few MB); `full` saves the whole
model as safetensors. Either folder also holds the tokenizer and `factory_training.json` (base
fingerprint and hyper-parameters) and is written whole or not at all (`staged_output`). Both report
perplexity on `eval_texts` before and after. CPU runs in fp32; a CUDA GPU trains in bf16 mixed
precision when it supports it. TRL appends the tokenizer's EOS token to every training text.

Example:
    >>> base = prepare_base_model(None, Path(".factory/models"))  # doctest: +SKIP
    >>> result = train_causal_lm(base, texts, held, StudentConfig(), Path("s"))  # doctest: +SKIP
    >>> result.perplexity_after < result.perplexity_before  # doctest: +SKIP
    True
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factory.errors import BackendError, ConfigError, FactoryError
from factory.training.base_model import BaseModelInfo
from factory.training.checkpoints import (
    Progress,
    TrainResult,
    hash_checkpoint,
    staged_output,
    write_training_info,
)
from factory.training.loading import load_student, quiet_peft_warnings, resolve_training_device
from factory.training.perplexity import perplexity

if TYPE_CHECKING:
    from factory.config import StudentConfig

__all__ = [
    "LORA_DROPOUT",
    "LORA_TARGET_MODULES",
    "METHODS",
    "train_causal_lm",
]

logger = logging.getLogger("factory.training")

LORA_TARGET_MODULES: tuple[str, ...] = ("q_proj", "v_proj")
LORA_DROPOUT = 0.05
METHODS: tuple[str, ...] = ("full", "lora")


def train_causal_lm(
    base: BaseModelInfo,
    train_texts: list[str],
    eval_texts: list[str],
    config: StudentConfig,
    output_dir: Path,
    progress: Progress | None = None,
) -> TrainResult:
    """Fine-tune by `config.method` (lora or full); perplexity on `eval_texts` before and after.

    Example:
        >>> cfg = StudentConfig(method="full", learning_rate=2e-5)
        >>> train_causal_lm(base, texts, held, cfg, Path("s")).steps  # doctest: +SKIP
        60
    """
    if config.method not in METHODS:
        msg = f"unknown student.method {config.method!r}; expected one of {list(METHODS)}"
        raise ConfigError(msg)
    return _train(base, train_texts, eval_texts, config, Path(output_dir), progress, config.method)


def _train(
    base: BaseModelInfo,
    train_texts: list[str],
    eval_texts: list[str],
    config: StudentConfig,
    output_dir: Path,
    progress: Progress | None,
    method: str,
) -> TrainResult:
    started = time.perf_counter()
    _check_texts(train_texts, "train_texts")
    _check_texts(eval_texts, "eval_texts")
    try:
        import torch
        from datasets import Dataset
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
        "base perplexity %.3f on %d eval texts; %s training, %d steps on %d texts (%s)",
        ppl_before, len(eval_texts), method, config.max_steps, len(train_texts),
        "bf16 on cuda" if bf16 else ("fp32 on cuda" if on_gpu else "fp32 on cpu"),
    )  # fmt: skip

    with staged_output(output_dir) as staging:
        args = SFTConfig(
            output_dir=str(staging.parent / "trainer"),
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
        hyperparameters = _hyperparameters(config, args, bf16, method)
        train_started = time.perf_counter()
        try:
            with quiet_peft_warnings():
                trainer = SFTTrainer(
                    model=model,
                    args=args,
                    train_dataset=Dataset.from_dict({"text": list(train_texts)}),
                    processing_class=tokenizer,
                    peft_config=_lora_config(config) if method == "lora" else None,
                    callbacks=[_step_callback(progress)],
                )
                trainer.remove_callback(PrinterCallback)
                train_started = time.perf_counter()
                trainer.train()
        except (RuntimeError, ValueError) as exc:
            raise BackendError(_failure_message(base, method, exc)) from exc
        train_seconds = time.perf_counter() - train_started
        steps = int(trainer.state.global_step)
        trained = trainer.model
        ppl_after = perplexity(trained, tokenizer, eval_texts, config.max_length)

        trained.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        info = {
            "base_fingerprint": base.fingerprint,
            "hyperparameters": hyperparameters,
            "steps": steps,
            "perplexity_before": ppl_before,
            "perplexity_after": ppl_after,
        }
        write_training_info(staging, info)

    checkpoint_hash = hash_checkpoint(output_dir)
    seconds = time.perf_counter() - started
    logger.info(
        "trained %d steps (%s) in %.1f s (%.2f s/step); perplexity %.3f -> %.3f; saved %s",
        steps, method, train_seconds, train_seconds / max(steps, 1), ppl_before, ppl_after,
        output_dir,
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


def _lora_config(config: StudentConfig) -> Any:
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=LORA_DROPOUT,
        target_modules=list(LORA_TARGET_MODULES),
        task_type="CAUSAL_LM",
    )


def _failure_message(base: BaseModelInfo, method: str, exc: Exception) -> str:
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    needs = (
        f"a causal LM with {list(LORA_TARGET_MODULES)} attention layers, "
        if method == "lora"
        else "a causal LM that transformers can train, "
    )
    return (
        f"{method} training of {str(base.path)!r} failed: {reason}; the student needs {needs}"
        "one visible GPU at most, and a smaller `student.batch_size` or `student.max_length` if "
        "memory ran out"
    )


def _check_texts(texts: list[str], name: str) -> None:
    if not texts:
        msg = f"{name} is empty; training needs at least one text in each of train and eval"
        raise FactoryError(msg)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str) or not t.strip()]
    if bad:
        msg = (
            f"{name} has {len(bad)} empty or non-string entries (first at index {bad[0]}); "
            "drop them before training"
        )
        raise FactoryError(msg)


def _hyperparameters(config: StudentConfig, args: Any, bf16: bool, method: str) -> dict[str, Any]:
    """The JSON-ready training parameters, including the trainer defaults that matter."""
    lora = (
        {
            "lora_r": config.lora_r,
            "lora_alpha": config.lora_alpha,
            "lora_dropout": LORA_DROPOUT,
            "target_modules": list(LORA_TARGET_MODULES),
        }
        if method == "lora"
        else {}
    )
    return {
        "method": method,
        **lora,
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
        "eos_appended": True,
        "precision": "bf16" if bf16 else "fp32",
    }


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
