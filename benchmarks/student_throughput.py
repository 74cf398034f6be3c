"""Training throughput of the project's LoRA student vs a bare PyTorch loop on the same batches.

Claim: `factory.training.train_causal_lm` with `method="lora"` (TRL `SFTTrainer` + PEFT LoRA)
trains the student nearly as fast as a hand-written PyTorch loop doing the same work, in tokens
per second.

Setup, in this process: the base is SmolLM2-135M from the packaged GGUF, dequantized once into
`--cache` (a temporary folder by default) by `prepare_base_model`; with `--random-init` it is the
same architecture with random weights (`AutoConfig` + `from_config`, saved once), a stand-in for
GPU timing where the weights cannot travel (same speed). The data are the first `--steps` x
`--batch-size` banking77 train texts by content hash in the classification training format
(`training_texts`); the next 8 are the eval texts `train_causal_lm` needs. Never test.csv.

- project: `train_causal_lm(base, texts, eval_texts, StudentConfig(method="lora", max_steps,
  batch_size, max_length), out)`; its time is `TrainResult.train_seconds` (`trainer.train()`
  alone: the trainer's own setup inside it, every step, per-step logging and metrics; not the
  model load, the perplexities or the saving). The batches it fed are recorded by wrapping TRL's
  `DataCollatorForLanguageModeling.torch_call` (a copy of each batch, nothing else) and checked:
  each row is the tokenizer's ids of text + EOS, cut at `--max-length`, right-padded, labels
  -100 on padding. Every project repeat must feed the same batches.
- bare: the same base weights, PEFT `LoraConfig` (r, alpha, dropout, target modules), AdamW
  (fused when the trainer's is: `adamw_torch_fused`, its default), learning rate, weight decay,
  schedule and gradient clipping that the run recorded in `TrainResult.hyperparameters`, and the
  recorded batches in the same order; a loop of forward (full logits), cross-entropy on the shifted
  non-padding labels, backward, clip, step, schedule, zero_grad. Only the loop is timed. (TRL
  computes the loss with its fused LM head, log-probs in tiles without the full logits.)

On CUDA both sides run bf16 autocast (fp32 weights) when the GPU supports it, as
`train_causal_lm` does; on the CPU both run fp32. Both use `--threads` torch threads. Tokens are
the non-padding tokens of the recorded batches, the same count for both sides. Each side is warmed
up with `--warmup` steps (a short `train_causal_lm` run; the bare loop on its batches); repeats
alternate which side goes first (the project first in repeat 1: it supplies the batches);
medians of `--repeats`.

    .venv/bin/python benchmarks/student_throughput.py [--steps 20] [--batch-size 4]
        [--max-length 64] [--repeats 3] [--device auto|cpu|cuda] [--random-init]

At the defaults it runs for about 4 minutes on 2 idle cores (measured 4 min 1 s, with the
dequantized model already in `--cache`).

Last line: `student_throughput ratio=R`, R = project tokens/s / bare tokens/s (target >= 0.8).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import banking77_documents, banking77_train  # noqa: E402

if TYPE_CHECKING:
    import torch

    from factory.config import StudentConfig
    from factory.training import BaseModelInfo

Batch = dict[str, "torch.Tensor"]
EVAL_TEXTS = 8


@contextlib.contextmanager
def recorded_batches() -> Iterator[list[Batch]]:
    """Collect a copy of every batch TRL's language-modeling collator builds inside the block."""
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling as Collator

    original = Collator.torch_call
    batches: list[Batch] = []

    def torch_call(self: Any, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = original(self, examples)
        batches.append({k: out[k].clone() for k in ("input_ids", "attention_mask", "labels")})
        return out

    Collator.torch_call = torch_call  # type: ignore[method-assign]
    try:
        yield batches
    finally:
        Collator.torch_call = original  # type: ignore[method-assign]


def check_batches(batches: list[Batch], tokenizer: Any, texts: list[str], max_length: int) -> None:
    """Exit unless each row is tokenizer(text + EOS)[:max_length], right-padded, pad labels -100."""
    expected = {tuple(tokenizer(t + tokenizer.eos_token)["input_ids"][:max_length]) for t in texts}
    for step, batch in enumerate(batches):
        for ids, mask, labels in zip(
            batch["input_ids"], batch["attention_mask"], batch["labels"], strict=True
        ):
            n = int(mask.sum())
            row = tuple(ids[:n].tolist())
            ok = (
                bool(mask[:n].all())
                and not bool(mask[n:].any())
                and row in expected
                and labels[:n].tolist() == list(row)
                and bool((labels[n:] == -100).all())
            )
            if not ok:
                sys.exit(
                    f"step {step + 1}: a trainer batch row is not a right-padded, truncated text + "
                    f"EOS ({row[:8]}...); SFTTrainer's batching changed, update this benchmark"
                )


def same_batches(a: list[Batch], b: list[Batch]) -> bool:
    """True when both lists hold equal batches in the same order."""
    import torch

    return len(a) == len(b) and all(
        all(torch.equal(x[k], y[k]) for k in x) for x, y in zip(a, b, strict=True)
    )


def base_model(source: str | None, cache: Path, random_init: bool, seed: int) -> BaseModelInfo:
    """The prepared base, or (`random_init`) its architecture with random weights, saved once."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from factory.training import prepare_base_model

    if not random_init:
        return prepare_base_model(source, cache)
    if source is not None and Path(source).is_dir():
        folder = Path(source)  # config.json and the tokenizer are enough to build from
    else:
        folder = prepare_base_model(source, cache).path
    target = cache / f"random-init-{folder.name}"
    if not target.is_dir():
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(folder))
        model.to(torch.float32).save_pretrained(target, safe_serialization=True)
        AutoTokenizer.from_pretrained(folder).save_pretrained(target)
        del model
    return prepare_base_model(target, cache)


def run_project(
    base: BaseModelInfo, texts: list[str], eval_texts: list[str], config: StudentConfig, out: Path
) -> tuple[float, list[Batch], dict[str, Any]]:
    """One LoRA `train_causal_lm` run: (train_seconds, the batches its steps used, its
    hyper-parameters)."""
    from factory.training import train_causal_lm

    with recorded_batches() as batches:
        result = train_causal_lm(base, texts, eval_texts, config, out)
    shutil.rmtree(out, ignore_errors=True)
    if result.steps != config.max_steps or len(batches) < result.steps:
        sys.exit(
            f"train_causal_lm ran {result.steps} of {config.max_steps} steps and its collator "
            f"built {len(batches)} batches; expected {config.max_steps} of each (did SFTTrainer "
            "stop using DataCollatorForLanguageModeling?)"
        )
    # The data loader may build one batch ahead; the steps used the first `steps`.
    return result.train_seconds, batches[: result.steps], result.hyperparameters


def run_bare(
    model_path: Path, batches: list[Batch], hp: dict[str, Any], device: str, bf16: bool
) -> tuple[float, float]:
    """(seconds, first-step loss) of a hand-written LoRA loop over `batches`; set-up not timed."""
    import torch
    from peft import LoraConfig, get_peft_model
    from torch.nn import functional
    from transformers import AutoModelForCausalLM, get_scheduler

    from factory.training.loading import quiet_peft_warnings

    if hp["optimizer"] not in ("adamw_torch", "adamw_torch_fused"):
        sys.exit(f"the trainer used optimizer {hp['optimizer']!r}; this benchmark knows AdamW only")
    torch.manual_seed(hp["seed"])
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    lora = LoraConfig(
        r=hp["lora_r"],
        lora_alpha=hp["lora_alpha"],
        lora_dropout=hp["lora_dropout"],
        target_modules=list(hp["target_modules"]),
        task_type="CAUSAL_LM",
    )
    with quiet_peft_warnings():
        model = get_peft_model(model, lora).to(device)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        params,
        lr=hp["learning_rate"],
        weight_decay=hp["weight_decay"],
        fused=hp["optimizer"] == "adamw_torch_fused",
    )
    scheduler = get_scheduler(
        hp["lr_scheduler"], optimizer, num_warmup_steps=hp["warmup_steps"],
        num_training_steps=len(batches),
    )  # fmt: skip
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    clip = hp["max_grad_norm"]
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    losses: list[torch.Tensor] = []
    sync()
    started = time.perf_counter()
    for batch in batches:
        input_ids = batch["input_ids"].to(device)
        labels = batch["labels"].to(device)
        with autocast:
            logits = model(
                input_ids=input_ids,
                attention_mask=batch["attention_mask"].to(device),
                use_cache=False,
            ).logits
        loss = functional.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(), labels[:, 1:].flatten(), ignore_index=-100
        )
        loss.backward()
        if not losses:
            losses.append(loss.detach())
        if clip:
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
    sync()
    seconds = time.perf_counter() - started
    del model, optimizer
    release(device)
    return seconds, float(losses[0])


def release(device: str) -> None:
    """Free the last run's model before the next one."""
    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per run (20)")
    parser.add_argument("--batch-size", type=int, default=4, help="sequences per step (4)")
    parser.add_argument("--max-length", type=int, default=64, help="tokens per sequence (64)")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up steps per side (2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side (3)")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads")
    parser.add_argument("--base", default=None, help="GGUF or HF folder (packaged SmolLM2)")
    parser.add_argument("--cache", type=Path, default=None, help="dequantized-model cache")
    parser.add_argument("--random-init", action="store_true", help="random weights, same shape")
    args = parser.parse_args()
    if min(args.steps, args.batch_size, args.warmup, args.repeats, args.threads) < 1:
        sys.exit("--steps, --batch-size, --warmup, --repeats and --threads must be at least 1")
    if args.warmup > args.steps:
        sys.exit(f"--warmup {args.warmup} is more than --steps {args.steps}; lower it")

    data = banking77_train()
    if data is None:
        print("skipped: banking77 train.csv not found; set FACTORY_TEST_DATA to the data folder")
        return
    if args.device == "cpu":
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # train_causal_lm trains on any GPU it sees

    import datasets
    import torch
    from transformers import AutoTokenizer

    from factory.config import StudentConfig
    from factory.training import resolve_training_device, training_texts

    datasets.disable_progress_bars()
    torch.set_num_threads(args.threads)
    device = resolve_training_device()
    if args.device == "cuda" and device != "cuda":
        sys.exit("--device cuda but torch sees no CUDA GPU; use --device cpu or auto")
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported()

    texts = training_texts(banking77_documents(data), "classification")
    n = args.steps * args.batch_size
    if len(texts) < n + EVAL_TEXTS:
        sys.exit(f"--steps x --batch-size = {n} is more than the {len(texts)} banking77 texts")
    train, held = texts[:n], texts[n : n + EVAL_TEXTS]

    def config(steps: int) -> StudentConfig:
        return StudentConfig(
            method="lora", max_steps=steps, batch_size=args.batch_size, max_length=args.max_length
        )

    with tempfile.TemporaryDirectory(prefix="student_throughput-") as tmp:
        cache = args.cache or Path(tmp) / "models"
        base = base_model(args.base, cache, args.random_init, seed=0)
        tokenizer = AutoTokenizer.from_pretrained(base.path)
        out = Path(tmp) / "student"

        # Warm-up: a short project run (allocator, imports, TRL set-up), then the bare loop.
        _, warm, hp = run_project(base, train, held, config(args.warmup), out)
        _, first_loss = run_bare(base.path, warm, hp, device, bf16)

        batches: list[Batch] = []
        project_s: list[float] = []
        bare_s: list[float] = []
        for i in range(args.repeats):
            first = "project" if i % 2 == 0 else "bare"
            for side in (first, "bare" if first == "project" else "project"):
                if side == "bare":
                    bare_s.append(run_bare(base.path, batches, hp, device, bf16)[0])
                    continue
                seconds, used, hp = run_project(base, train, held, config(args.steps), out)
                if not batches:
                    check_batches(used, tokenizer, train, args.max_length)
                    if not same_batches(warm, used[: args.warmup]):
                        sys.exit("the warm-up run fed other batches than the timed run")
                    batches = used
                elif not same_batches(batches, used):
                    sys.exit(f"repeat {i + 1}: train_causal_lm fed other batches than in repeat 1")
                project_s.append(seconds)
                release(device)
            print(
                f"repeat {i + 1} ({first} first): project {project_s[-1]:.2f} s, "
                f"bare {bare_s[-1]:.2f} s",
                flush=True,
            )

    tokens = sum(int(b["attention_mask"].sum()) for b in batches)
    positions = sum(b["attention_mask"].numel() for b in batches)
    project_rate = tokens / statistics.median(project_s)
    bare_rate = tokens / statistics.median(bare_s)
    print(
        f"model={Path(args.base or 'SmolLM2-135M').name} "
        f"weights={'random' if args.random_init else 'pretrained'} device={device} "
        f"precision={hp['precision']} optimizer={hp['optimizer']} steps={args.steps} "
        f"batch_size={args.batch_size} max_length={args.max_length} warmup={args.warmup} "
        f"torch_threads={torch.get_num_threads()} repeats={args.repeats}"
    )
    print(f"tokens per run: {tokens} non-padding of {positions} positions ({args.steps} steps)")
    print(f"bare first-step loss {first_loss:.4f} (LoRA B starts at 0: the base model's loss)")
    print(
        f"bare PyTorch loop: {bare_rate:,.0f} tokens/s "
        f"(median {statistics.median(bare_s) / args.steps:.3f} s/step)"
    )
    print(
        f"project train_causal_lm: {project_rate:,.0f} tokens/s "
        f"(median {statistics.median(project_s) / args.steps:.3f} s/step)"
    )
    print(f"student_throughput ratio={project_rate / bare_rate:.3f}")


if __name__ == "__main__":
    main()
