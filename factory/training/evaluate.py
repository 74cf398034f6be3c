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
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from factory.errors import FactoryError, SchemaError
from factory.schemas import STUDENT_EVALUATION
from factory.training.checkpoints import Progress
from factory.training.classifier import LinearHead
from factory.training.decoding import answer_batches, classify_batches, known_labels
from factory.training.perplexity import token_nll
from factory.training.texts import format_prompt, training_texts

__all__ = [
    "EvaluationSummary",
    "evaluate_causal_lm",
    "evaluate_head",
    "normalize_answer",
    "summarize",
]

_TARGET = {"classification": "label", "qa": "answer"}
_COLUMNS = [c for c in STUDENT_EVALUATION.columns if c.name != "model"]


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
    label_set = known_labels(labels) if task_kind == "classification" else []
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
                classify_batches(model, tokenizer, prompts, texts, references, label_set,
                                 max_length, batch_size, advance)
            )  # fmt: skip
            correct = [p == r for p, r in zip(predictions, references, strict=True)]
        else:
            predictions = list(
                answer_batches(
                    model, tokenizer, prompts, max_length, max_new_tokens, batch_size, advance
                )
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
