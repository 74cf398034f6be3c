"""Per-example evaluation: constrained decoding, exact match, NLL per example and summaries."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from factory.config import StudentConfig
from factory.errors import BackendError, ConfigError, FactoryError, SchemaError
from factory.schemas import STUDENT_EVALUATION
from factory.training import (
    BaseModelInfo,
    evaluate_causal_lm,
    evaluate_head,
    load_head,
    load_student,
    summarize,
    train_head,
    training_texts,
)
from factory.training.decoding import label_token_sequences
from factory.training.evaluate import normalize_answer
from factory.training.perplexity import perplexity, token_nll
from factory.training.texts import format_prompt

LABELS = ["card_arrival", "card", "cash withdrawal", "pin_blocked"]
MESSAGES = [
    "Where is my new card?",
    "My card has not arrived yet and it has been two weeks, what should I do now?",
    "ATM kept my money",
    "I typed the wrong PIN three times and now it is blocked.",
    "hi",
    "Can I get cash out abroad without a fee?",
    "How long does delivery take?",
]
COLUMNS = [c for c in STUDENT_EVALUATION.column_names if c != "model"]


def _frame(kind: str, targets: list[str] | None = None) -> pl.DataFrame:
    n = len(MESSAGES)
    data: dict[str, Any] = {
        "doc_id": [f"d{i}" for i in range(n)],
        "split": ["validation" if i % 3 else "test" for i in range(n)],
        "text": MESSAGES,
    }
    if kind == "classification":
        data["label"] = targets or [LABELS[i % len(LABELS)] for i in range(n)]
    if kind == "qa":
        data["answer"] = targets
    return pl.DataFrame(data)


def _generate(
    model: Any, tokenizer: Any, prompt: str, steps: int, allowed: Any = None
) -> list[int]:
    """transformers' own greedy `generate` for one prompt: the new tokens up to EOS."""
    encoded = tokenizer(prompt, return_tensors="pt")
    out = model.generate(
        **encoded,
        max_new_tokens=steps,
        do_sample=False,
        prefix_allowed_tokens_fn=allowed,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.eos_token_id,
    )
    new = out[0, encoded["input_ids"].shape[1] :].tolist()
    eos = tokenizer.eos_token_id
    return new[: new.index(eos) + 1] if eos in new else new


def test_constrained_decoding_returns_labels_as_generate_would(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    frame = _frame("classification")
    rows = evaluate_causal_lm(model, tokenizer, frame, "classification", LABELS, 64, batch_size=3)
    assert rows.columns == COLUMNS
    assert rows["doc_id"].to_list() == frame["doc_id"].to_list()
    assert rows["split"].to_list() == frame["split"].to_list()
    assert set(rows["prediction"]) <= set(LABELS)
    assert rows["reference"].to_list() == frame["label"].to_list()
    pairs = zip(rows["prediction"], rows["reference"], strict=True)
    assert rows["correct"].to_list() == [p == r for p, r in pairs]
    STUDENT_EVALUATION.validate(rows.with_columns(model=pl.lit("student")))

    # The same labels as transformers' generate restricted to the trie, one prompt at a time.
    sequences = label_token_sequences(tokenizer, format_prompt("classification", "x"), LABELS)
    for text, predicted in zip(MESSAGES, rows["prediction"], strict=True):
        prompt = format_prompt("classification", text)
        start = len(tokenizer(prompt)["input_ids"])

        def allowed(_: int, ids: Any, start: int = start) -> list[int]:
            done = ids[start:].tolist()
            return sorted({s[len(done)] for s in sequences if s[: len(done)] == done}) or [0]

        new = _generate(model, tokenizer, prompt, max(map(len, sequences)), allowed)
        assert LABELS[sequences.index(new)] == predicted

    one_by_one = evaluate_causal_lm(model, tokenizer, frame, "classification", LABELS, 64, 1)
    assert one_by_one["prediction"].to_list() == rows["prediction"].to_list()
    np.testing.assert_allclose(one_by_one["nll"].to_numpy(), rows["nll"].to_numpy(), rtol=1e-4)


def test_a_label_that_prefixes_another_is_decidable(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    labels = ["card_arrival", "card"]
    long, short = label_token_sequences(tokenizer, format_prompt("classification", "x"), labels)
    eos = tokenizer.eos_token_id
    assert short == [*long[:1], eos]  # " card" is the first token of " card_arrival"
    assert eos < min(long[1:-1])
    # With a zeroed final norm every logit is 0: each step picks the smallest allowed token id,
    # so after " card" the decoder must choose between EOS (ends "card") and "_" (continues).
    flat = copy.deepcopy(model)
    flat.model.norm.weight.data.zero_()
    rows = evaluate_causal_lm(
        flat, tokenizer, _frame("classification"), "classification", labels, 64
    )
    assert rows["prediction"].to_list() == ["card"] * len(MESSAGES)


def test_decoding_matches_what_the_trainer_trains_on(
    tiny_base: BaseModelInfo, tmp_path: Path
) -> None:
    """TRL appends EOS to each text; its tokens are the prompt's followed by the label's + EOS."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = load_student(tiny_base, device="cpu")
    frame = _frame("classification")
    texts = training_texts(frame, "classification")
    args = SFTConfig(
        output_dir=str(tmp_path / "trainer"), max_length=128, report_to="none", use_cpu=True,
        dataset_text_field="text", packing=False, disable_tqdm=True, activation_checkpointing=False,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=Dataset.from_dict({"text": texts}),
        processing_class=tokenizer,
    )
    trained_on = trainer.train_dataset["input_ids"]
    sequences = label_token_sequences(tokenizer, format_prompt("classification", "x"), LABELS)
    for text, label, ids in zip(MESSAGES, frame["label"], trained_on, strict=True):
        prompt_ids = tokenizer(format_prompt("classification", text))["input_ids"]
        assert list(ids) == prompt_ids + sequences[LABELS.index(label)]
        assert ids[-1] == tokenizer.eos_token_id


def test_banking77_labels_tokenize_alike_alone_and_in_the_training_text(
    base_lm: tuple[Any, Any], banking77_dir: Path
) -> None:
    _, tokenizer = base_lm
    labels = json.loads((banking77_dir / "categories.json").read_text())
    assert len(labels) == 77
    eos = tokenizer.eos_token
    for message in ("I am still waiting on my card?", "Why was I charged €1?!"):
        prompt = format_prompt("classification", message)
        sequences = label_token_sequences(tokenizer, prompt, labels)
        prompt_ids = tokenizer(prompt)["input_ids"]
        for label, seq in zip(labels, sequences, strict=True):
            joint = tokenizer(f"{prompt} {label}{eos}")["input_ids"]
            assert prompt_ids + seq == joint
            assert seq.count(tokenizer.eos_token_id) == 1
            assert seq[-1] == tokenizer.eos_token_id
            assert tokenizer.decode(seq[:-1]) == f" {label}"
        assert len({tuple(s) for s in sequences}) == 77


def test_real_smollm2_short_evaluation(
    base_lm: tuple[Any, Any], banking77_slice: Path, banking77_dir: Path
) -> None:
    model, tokenizer = base_lm
    labels = json.loads((banking77_dir / "categories.json").read_text())
    corpus = pl.read_csv(banking77_slice).rename({"category": "label"})
    held = corpus.gather([20, 150, 260, 390]).with_columns(
        doc_id=pl.format("b{}", pl.int_range(pl.len())), split=pl.lit("validation")
    )
    rows = evaluate_causal_lm(model, tokenizer, held, "classification", labels, 64, batch_size=4)
    summary = summarize(rows)
    print(f"\nSmolLM2 base, 77 labels: {rows['prediction'].to_list()}, accuracy {summary.accuracy}")
    assert set(rows["prediction"]) <= set(labels)
    assert summary.accuracy is not None
    assert 0.0 <= summary.accuracy <= 1.0
    texts = training_texts(held, "classification")
    assert summary.perplexity == pytest.approx(perplexity(model, tokenizer, texts, 64), rel=1e-4)
    assert (rows["tokens"] > 5).all()


def test_qa_generation_and_normalized_exact_match(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    expected = []
    for text in MESSAGES[:3]:
        new = _generate(model, tokenizer, format_prompt("qa", text), 6)
        if new and new[-1] == tokenizer.eos_token_id:
            new = new[:-1]
        expected.append(tokenizer.decode(new, skip_special_tokens=True).strip())
    assert normalize_answer(expected[0])  # a random model still writes something
    answers = [f"  {expected[0].upper()} !?", "certainly not this", expected[2]]
    frame = _frame("qa", answers + ["x"] * (len(MESSAGES) - 3)).head(3)
    rows = evaluate_causal_lm(model, tokenizer, frame, "qa", None, 64, max_new_tokens=6)
    assert rows["prediction"].to_list() == expected
    assert rows["reference"].to_list() == answers
    assert rows["correct"].to_list() == [
        True,
        normalize_answer(expected[1]) == "certainly not this",
        True,
    ]
    assert summarize(rows).exact_match == pytest.approx(rows["correct"].mean())
    assert summarize(rows).accuracy is None


def test_normalize_answer() -> None:
    assert normalize_answer("  The  Cat!\n") == "the cat"
    assert normalize_answer("72.") == normalize_answer("72") == "72"
    assert normalize_answer("Paris") != normalize_answer("London")


def test_text_kind_scores_nll_only_and_sums_to_perplexity(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    frame = _frame("text")
    calls: list[tuple[int, int]] = []
    rows = evaluate_causal_lm(
        model,
        tokenizer,
        frame,
        "text",
        None,
        16,
        batch_size=4,
        progress=lambda d, t: calls.append((d, t)),
    )
    assert calls == [(1, 2), (2, 2)]
    assert rows["correct"].null_count() == rows["prediction"].null_count() == len(MESSAGES)
    assert rows["reference"].null_count() == len(MESSAGES)
    scores = token_nll(model, tokenizer, MESSAGES, 16)
    assert rows["tokens"].to_list() == [t for _, t in scores]
    assert rows["tokens"].max() == 15  # the long message is truncated to max_length
    summary = summarize(rows)
    assert summary.perplexity == pytest.approx(perplexity(model, tokenizer, MESSAGES, 16), rel=1e-5)
    assert summary.accuracy is None
    assert summary.exact_match is None
    assert summary.examples == len(MESSAGES)


def test_bad_calls_say_what_to_pass(tiny_lm: tuple[Any, Any]) -> None:
    model, tokenizer = tiny_lm
    frame = _frame("classification")
    with pytest.raises(ConfigError, match="needs the label set"):
        evaluate_causal_lm(model, tokenizer, frame, "classification", None, 64)
    with pytest.raises(SchemaError, match=r"\['split'\]"):
        evaluate_causal_lm(model, tokenizer, frame.drop("split"), "classification", LABELS, 64)
    with pytest.raises(SchemaError, match=r"\['answer'\] are missing"):
        evaluate_causal_lm(model, tokenizer, frame, "qa", None, 64)
    with pytest.raises(ConfigError, match="unknown task kind"):
        evaluate_causal_lm(model, tokenizer, frame, "summary", None, 64)
    empty = evaluate_causal_lm(model, tokenizer, frame.head(0), "classification", LABELS, 64)
    assert empty.columns == COLUMNS
    assert empty.height == 0


def test_a_tokenizer_that_merges_across_the_boundary_is_refused() -> None:
    from tokenizers import Tokenizer
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    chars = [chr(c) for c in range(32, 127)] + ["\n"]
    vocab = {ch: i for i, ch in enumerate(["</s>", *chars, ": "])}
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(BPE(vocab=vocab, merges=[(":", " ")])), eos_token="</s>"
    )
    with pytest.raises(BackendError, match="does not split the training text at the prompt/label"):
        label_token_sequences(tokenizer, format_prompt("classification", "hi"), ["card"])


def test_head_evaluation_rows(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    centres = {"card": np.eye(4)[0] * 5, "pin": np.eye(4)[1] * 5}
    train_labels = ["card", "pin"] * 20
    train = np.stack([centres[y] + rng.normal(0, 0.3, 4) for y in train_labels])
    cfg = StudentConfig(backend="classifier", head_epochs=10, head_batch_size=8)
    train_head(train, train_labels, cfg, tmp_path / "head")
    head = load_head(tmp_path / "head")
    frame = pl.DataFrame(
        {"doc_id": ["a", "b", "c"], "split": ["validation", "test", "test"],
         "text": ["x", "y", "z"], "label": ["card", "pin", "cash"]}
    )  # fmt: skip
    vectors = np.stack([centres["card"], centres["pin"], centres["pin"]])
    rows = evaluate_head(head, vectors, frame)
    assert rows.columns == COLUMNS
    assert rows["prediction"].to_list() == ["card", "pin", "pin"]
    assert rows["correct"].to_list() == [True, True, False]
    assert rows["nll"].null_count() == rows["tokens"].null_count() == 3
    STUDENT_EVALUATION.validate(rows.with_columns(model=pl.lit("base")))
    assert summarize(rows).accuracy == pytest.approx(2 / 3)
    assert summarize(rows).perplexity is None
    with pytest.raises(FactoryError, match=r"shape \(2, 4\) for 3 rows"):
        evaluate_head(head, vectors[:2], frame)


def test_summarize_weights_tokens_and_splits_metrics_by_kind() -> None:
    rows = pl.DataFrame(
        {
            "model": ["student"] * 5,
            "split": ["validation"] * 5,
            "doc_id": list("abcde"),
            "task_kind": ["classification"] * 3 + ["qa"] * 2,
            "reference": list("xyzuv"),
            "prediction": list("xqzuw"),
            "correct": [True, False, True, True, None],
            "nll": [2.0, None, 4.0, 1.0, 3.0],
            "tokens": [2, None, 3, 1, 2],
        },
        schema=STUDENT_EVALUATION.empty().schema,
    )
    summary = summarize(rows)
    assert summary.accuracy == pytest.approx(2 / 3)
    assert summary.exact_match == pytest.approx(1.0)
    assert summary.perplexity == pytest.approx(math.exp(10 / 8))
    assert summary.examples == 5
    empty = summarize(STUDENT_EVALUATION.empty())
    assert (empty.accuracy, empty.exact_match, empty.perplexity, empty.examples) == (
        None, None, None, 0,
    )  # fmt: skip
    with pytest.raises(SchemaError, match=r"\['task_kind'\]"):
        summarize(rows.drop("task_kind"))
