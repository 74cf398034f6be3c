"""Per-example evaluation of a student on held-out rows, in `STUDENT_EVALUATION`'s columns.

A causal LM is scored on every example's training text (summed next-token NLL and tokens, as in
`perplexity`) and, by task kind:

- `classification`: the label by constrained greedy decoding. From `format_prompt(kind, text)`,
  each step may only pick a token that continues some label's token sequence (a prefix trie over
  the labels, each tokenized as it follows the prompt in the training text, i.e. `" " + label`,
  and ended by the EOS token, since TRL's `SFTTrainer` appends EOS to every training text). So the
  prediction is always one of `labels`, and a label that is a prefix of another is still decidable.
  The labels' tokens are taken from the tokenized joint text; a tokenizer that merges tokens across
  the prompt/label boundary (so the prompt's tokens are not a prefix of the training text's) is
  refused with a BackendError rather than decoded inconsistently with training.
- `qa`: greedy generation of up to `max_new_tokens` tokens, stopped by EOS, and exact match after
  `normalize_answer` (lowercase, punctuation removed, whitespace collapsed).
- `text`: NLL only (`correct` is null).

Decoding runs in batches, left-padded, with the KV cache; a prompt longer than `max_length` tokens
keeps its last `max_length` (the part next to the answer). A linear head (`evaluate_head`) gives
labels only. `summarize` turns the rows into accuracy, exact match and perplexity.

Example:
    >>> rows = evaluate_causal_lm(model, tok, frame, "classification", labels, 96)  # doctest: +SKIP
    >>> summarize(rows.with_columns(model=pl.lit("student"))).accuracy  # doctest: +SKIP
    0.81
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from factory.errors import BackendError, ConfigError, FactoryError, SchemaError
from factory.schemas import STUDENT_EVALUATION
from factory.training.checkpoints import Progress
from factory.training.classifier import LinearHead
from factory.training.perplexity import token_nll
from factory.training.texts import TASK_TEMPLATES, format_prompt, training_texts

__all__ = [
    "EvaluationSummary",
    "evaluate_causal_lm",
    "evaluate_head",
    "label_token_sequences",
    "normalize_answer",
    "summarize",
]

_TARGET = {"classification": "label", "qa": "answer"}
_COLUMNS = [c for c in STUDENT_EVALUATION.columns if c.name != "model"]

Allowed = Callable[[int, list[int]], list[int] | None]
"""(row, tokens generated so far) -> the token ids allowed next, or None for any."""


@dataclass(frozen=True)
class EvaluationSummary:
    """Aggregate scores of evaluation rows; a metric the rows cannot give is None."""

    accuracy: float | None
    """Share of correct classification rows."""
    exact_match: float | None
    """Share of correct qa rows."""
    perplexity: float | None
    """exp(sum nll / sum tokens) over the rows that have them."""
    examples: int


def evaluate_causal_lm(
    model: Any,
    tokenizer: Any,
    frame: pl.DataFrame,
    task_kind: str,
    labels: list[str] | None,
    max_length: int,
    batch_size: int = 8,
    max_new_tokens: int = 32,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """One row per row of `frame` (doc_id, split, text, label or answer), all columns but `model`.

    `labels` is the label set for classification (ignored otherwise). `progress(done, total)` is
    called after each batch (scoring, then decoding).

    Example:
        >>> evaluate_causal_lm(model, tok, frame, "qa", None, 128).columns[:3]  # doctest: +SKIP
        ['split', 'doc_id', 'task_kind']
    """
    if batch_size < 1 or max_new_tokens < 1:
        msg = (
            f"evaluation needs batch_size >= 1 and max_new_tokens >= 1; got "
            f"batch_size={batch_size}, max_new_tokens={max_new_tokens}"
        )
        raise FactoryError(msg)
    texts = training_texts(frame, task_kind)  # checks the kind, the columns and their nulls
    _require(frame, ["doc_id", "split"], "evaluate_causal_lm")
    target = _TARGET.get(task_kind)
    label_set = _label_set(labels) if task_kind == "classification" else []
    n = frame.height
    batches = -(-n // batch_size)
    total = batches * (1 if target is None else 2)
    done = 0

    def advance() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    scores: list[tuple[float, int]] = []
    for start in range(0, n, batch_size):
        chunk = texts[start : start + batch_size]
        scores.extend(token_nll(model, tokenizer, chunk, max_length, batch_size))
        advance()

    references: list[str | None] = [None] * n
    predictions: list[str | None] = [None] * n
    correct: list[bool | None] = [None] * n
    if target is not None and n:
        references = [str(v) for v in frame[target].to_list()]
        prompts = [format_prompt(task_kind, t) for t in frame["text"].to_list()]
        if task_kind == "classification":
            predictions = list(
                _classify(model, tokenizer, prompts, texts, references, label_set, max_length,
                          batch_size, advance)
            )  # fmt: skip
            correct = [p == r for p, r in zip(predictions, references, strict=True)]
        else:
            predictions = list(
                _answer(model, tokenizer, prompts, max_length, max_new_tokens, batch_size, advance)
            )
            correct = [
                normalize_answer(str(p)) == normalize_answer(r)
                for p, r in zip(predictions, references, strict=True)
            ]
    return _frame(
        frame,
        task_kind,
        references,
        predictions,
        correct,
        [s for s, _ in scores],
        [t for _, t in scores],
    )


def evaluate_head(head: LinearHead, vectors: np.ndarray, frame: pl.DataFrame) -> pl.DataFrame:
    """The head's label for each row of `frame` (doc_id, split, label), vectors in row order.

    Example:
        >>> evaluate_head(load_head(path), vectors, frame)["correct"].mean()  # doctest: +SKIP
        0.86
    """
    _require(frame, ["doc_id", "split", "label"], "evaluate_head")
    x = np.asarray(vectors)
    if x.ndim != 2 or x.shape[0] != frame.height:
        msg = (
            f"evaluate_head got vectors of shape {x.shape} for {frame.height} rows; pass one "
            "vector per row, in row order"
        )
        raise FactoryError(msg)
    references = frame["label"].cast(pl.String).to_list()
    predictions: list[str | None] = head.predict(x) if frame.height else []
    correct = [None if r is None else p == r for p, r in zip(predictions, references, strict=True)]
    none = [None] * frame.height
    return _frame(frame, "classification", references, predictions, correct, none, none)


def summarize(examples: pl.DataFrame) -> EvaluationSummary:
    """Accuracy (classification rows), exact match (qa rows) and perplexity of `examples`.

    Example:
        >>> summarize(STUDENT_EVALUATION.empty())
        EvaluationSummary(accuracy=None, exact_match=None, perplexity=None, examples=0)
    """
    _require(examples, ["task_kind", "correct", "nll", "tokens"], "summarize")

    def share(kind: str) -> float | None:
        verdicts = examples.filter(pl.col("task_kind") == kind)["correct"].drop_nulls()
        return int(verdicts.sum()) / len(verdicts) if len(verdicts) else None

    scored = examples.filter(pl.col("nll").is_not_null() & pl.col("tokens").is_not_null())
    tokens = int(scored["tokens"].sum()) if scored.height else 0
    ppl = math.exp(float(scored["nll"].sum()) / tokens) if tokens else None
    return EvaluationSummary(
        accuracy=share("classification"),
        exact_match=share("qa"),
        perplexity=ppl,
        examples=examples.height,
    )


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation, collapse whitespace: `" The Cat!"` -> `"the cat"`."""
    kept = "".join(ch for ch in text.lower() if not unicodedata.category(ch).startswith("P"))
    return " ".join(kept.split())


def label_token_sequences(tokenizer: Any, prompt: str, labels: list[str]) -> list[list[int]]:
    """Token ids of each label as it follows `prompt` in a training text, ending with EOS.

    Raises BackendError when the tokenized prompt is not a prefix of the tokenized training text
    (tokens merged across the boundary) or when two labels tokenize alike.

    Example:
        >>> label_token_sequences(tok, "Message: hi\\nIntent:", ["greet"])  # doctest: +SKIP
        [[40542, 2]]
    """
    eos = _eos(tokenizer)
    prompt_ids = list(tokenizer(prompt)["input_ids"])
    joint = tokenizer([_training_text(prompt, label) + eos for label in labels])["input_ids"]
    sequences = []
    for label, ids in zip(labels, joint, strict=True):
        _check_boundary(tokenizer, prompt_ids, list(ids), label)
        sequences.append(list(ids[len(prompt_ids) :]))
    seen: dict[tuple[int, ...], str] = {}
    for label, seq in zip(labels, sequences, strict=True):
        if tuple(seq) in seen:
            msg = (
                f"labels {seen[tuple(seq)]!r} and {label!r} tokenize to the same tokens {seq}; "
                "constrained decoding cannot tell them apart; merge or rename them"
            )
            raise BackendError(msg)
        seen[tuple(seq)] = label
    return sequences


def _training_text(prompt: str, label: str) -> str:
    """The classification training text whose prompt is `prompt` (the template's tail added)."""
    template = TASK_TEMPLATES["classification"]
    return prompt + template[template.rindex(": ") + 1 :].format(label=label)


def _eos(tokenizer: Any) -> str:
    eos = tokenizer.eos_token
    if eos is None or tokenizer.eos_token_id is None:
        msg = (
            f"tokenizer {type(tokenizer).__name__} has no EOS token; the trainer ends every "
            "training text with EOS and constrained decoding needs it to end a label"
        )
        raise BackendError(msg)
    return str(eos)


def _check_boundary(tokenizer: Any, prompt_ids: list[int], ids: list[int], label: str) -> None:
    eos_id = tokenizer.eos_token_id
    if (
        ids[: len(prompt_ids)] == prompt_ids
        and len(ids) > len(prompt_ids) + 1
        and ids[-1] == eos_id
    ):
        return
    split = next(
        (i for i, (a, b) in enumerate(zip(prompt_ids, ids, strict=False)) if a != b),
        min(len(prompt_ids), len(ids)),
    )
    msg = (
        f"the tokenizer does not split the training text at the prompt/label boundary for label "
        f"{label!r}: the prompt alone tokenizes to ...{prompt_ids[max(0, split - 2) : split + 2]} "
        f"but within the text to ...{ids[max(0, split - 2) : split + 2]} (or the label + EOS is "
        "not at the end); constrained decoding would not match training; use a tokenizer that "
        "splits before the label (byte-level BPE such as SmolLM2's does)"
    )
    raise BackendError(msg)


def _label_set(labels: list[str] | None) -> list[str]:
    clean = sorted({str(label) for label in (labels or []) if label is not None and str(label)})
    if not clean:
        msg = (
            f"classification evaluation needs the label set; got {labels!r}; pass the train "
            "split's labels"
        )
        raise ConfigError(msg)
    return clean


def _classify(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    texts: list[str],
    references: list[str],
    labels: list[str],
    max_length: int,
    batch_size: int,
    advance: Callable[[], None],
) -> list[str]:
    sequences = label_token_sequences(tokenizer, prompts[0], labels)
    allowed: dict[tuple[int, ...], set[int]] = {}
    complete: dict[tuple[int, ...], int] = {}
    for index, seq in enumerate(sequences):
        for i in range(len(seq)):
            allowed.setdefault(tuple(seq[:i]), set()).add(seq[i])
        complete[tuple(seq)] = index
    choices = {prefix: sorted(ids) for prefix, ids in allowed.items()}
    encoded = [list(ids) for ids in tokenizer(prompts)["input_ids"]]
    # Every example's own training text must tokenize as its prompt + its label's tokens.
    eos = _eos(tokenizer)
    for prompt_ids, ids, ref in zip(
        encoded, tokenizer([t + eos for t in texts])["input_ids"], references, strict=True
    ):
        _check_boundary(tokenizer, prompt_ids, list(ids), ref)
        if ref in labels and list(ids[len(prompt_ids) :]) != sequences[labels.index(ref)]:
            msg = (
                f"label {ref!r} tokenizes differently after different prompts "
                f"({list(ids[len(prompt_ids) :])} vs {sequences[labels.index(ref)]}); "
                "constrained decoding needs one token sequence per label"
            )
            raise BackendError(msg)

    def allow(_: int, generated: list[int]) -> list[int] | None:
        return choices.get(tuple(generated), [int(tokenizer.eos_token_id)])

    steps = max(len(s) for s in sequences)
    outputs = _greedy_batches(
        model, tokenizer, encoded, max_length, steps, batch_size, allow, advance
    )
    predictions = []
    for out in outputs:
        if tuple(out) not in complete:  # cannot happen: every path of the trie ends in a label
            msg = f"constrained decoding produced tokens {out} that are no label; please report it"
            raise BackendError(msg)
        predictions.append(labels[complete[tuple(out)]])
    return predictions


def _answer(
    model: Any,
    tokenizer: Any,
    prompts: list[str],
    max_length: int,
    max_new_tokens: int,
    batch_size: int,
    advance: Callable[[], None],
) -> list[str]:
    _eos(tokenizer)
    encoded = [list(ids) for ids in tokenizer(prompts)["input_ids"]]
    outputs = _greedy_batches(
        model, tokenizer, encoded, max_length, max_new_tokens, batch_size, None, advance
    )
    eos_id = tokenizer.eos_token_id
    answers = []
    for out in outputs:
        ids = out[: out.index(eos_id)] if eos_id in out else out
        answers.append(str(tokenizer.decode(ids, skip_special_tokens=True)).strip())
    return answers


def _greedy_batches(
    model: Any,
    tokenizer: Any,
    encoded: list[list[int]],
    max_length: int,
    steps: int,
    batch_size: int,
    allow: Allowed | None,
    advance: Callable[[], None],
) -> list[list[int]]:
    """Greedy continuations of `encoded` prompts, batched by length, in the original order."""
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    results: list[list[int]] = [[] for _ in encoded]
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        prompts = [encoded[i][-max_length:] for i in rows]
        outs = _greedy(model, tokenizer, prompts, steps, allow)
        for i, out in zip(rows, outs, strict=True):
            results[i] = out
        advance()
    return results


def _greedy(
    model: Any, tokenizer: Any, prompts: list[list[int]], steps: int, allow: Allowed | None
) -> list[list[int]]:
    """Greedy decoding of one left-padded batch with the KV cache; stops at EOS per row."""
    import torch

    device = next(model.parameters()).device
    eos_id = int(tokenizer.eos_token_id)
    pad_id = int(tokenizer.pad_token_id) if tokenizer.pad_token_id is not None else eos_id
    width = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), width), dtype=torch.long)
    for i, p in enumerate(prompts):
        ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        mask[i, width - len(p) :] = 1
    ids, mask = ids.to(device), mask.to(device)
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    generated: list[list[int]] = [[] for _ in prompts]
    finished = [False] * len(prompts)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=True)
            for step in range(steps):
                logits = out.logits[:, -1, :].float()
                if allow is not None:
                    bias = torch.full_like(logits, float("-inf"))
                    for i, tokens in enumerate(generated):
                        permitted = allow(i, tokens)
                        if permitted is None:
                            bias[i] = 0.0
                        else:
                            bias[i, permitted] = 0.0
                    logits = logits + bias
                chosen = logits.argmax(dim=1).tolist()
                for i, token in enumerate(chosen):
                    if not finished[i]:
                        generated[i].append(int(token))
                        finished[i] = int(token) == eos_id
                if all(finished) or step == steps - 1:
                    break
                feed = torch.tensor(
                    [pad_id if f else t for f, t in zip(finished, chosen, strict=True)],
                    dtype=torch.long,
                    device=device,
                )
                mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
                positions = positions[:, -1:] + 1
                out = model(
                    input_ids=feed[:, None],
                    attention_mask=mask,
                    position_ids=positions,
                    past_key_values=out.past_key_values,
                    use_cache=True,
                )
    finally:
        model.train(was_training)
    return generated


def _require(frame: pl.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        msg = (
            f"{what} needs columns {missing} (frame has {frame.columns}); pass the evaluation "
            "rows with doc_id, split, text and the task's label or answer"
        )
        raise SchemaError(msg)


def _frame(
    frame: pl.DataFrame,
    task_kind: str,
    references: list[str | None],
    predictions: list[str | None],
    correct: list[bool | None],
    nll: list[float] | list[None],
    tokens: list[int] | list[None],
) -> pl.DataFrame:
    data = {
        "split": frame["split"].cast(pl.String).to_list(),
        "doc_id": frame["doc_id"].cast(pl.String).to_list(),
        "task_kind": [task_kind] * frame.height,
        "reference": references,
        "prediction": predictions,
        "correct": correct,
        "nll": nll,
        "tokens": tokens,
    }
    return pl.DataFrame(data, schema={c.name: c.dtype for c in _COLUMNS})
