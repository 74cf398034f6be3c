"""Perplexity under the real packaged SmolLM2 GGUF: fluent beats shuffled, the cache, helpers."""

from __future__ import annotations

import doctest
import math
import sqlite3
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import checks.fluency
from checks.fluency import (
    ReferenceLM,
    percentile_ceiling,
    perplexity_from_logits,
    share_above,
    shared_reference_lm,
)
from factory.errors import BackendError, ConfigError, SchemaError
from factory.models import smollm2_gguf_path

FLUENT = [
    "I would like to top up my card with a transfer.",
    "Why was my card payment declined at the supermarket?",
    "How long does it take for a bank transfer to arrive?",
    "I lost my card yesterday, can you block it please?",
    "What exchange rate do you use when I pay abroad?",
]


def _shuffled(text: str, seed: int) -> str:
    words = text.split()
    rng = np.random.default_rng(seed)
    for _ in range(10):  # a permutation that differs from the original order
        order = rng.permutation(len(words))
        if (order != np.arange(len(words))).any():
            break
    return " ".join(words[i] for i in order)


def _random_chars(n: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz     "))
    return ["".join(rng.choice(letters, size=48)).strip() for _ in range(n)]


@pytest.fixture(scope="session")
def reference_lm() -> ReferenceLM:
    """The real reference LM (packaged SmolLM2), loaded once per test run, no cache."""
    lm = ReferenceLM()
    lm.perplexities(["Load the model once."])
    return lm


def test_module_examples_run() -> None:
    result = doctest.testmod(checks.fluency)
    assert result.attempted > 0
    assert result.failed == 0


def test_perplexity_from_logits_matches_a_direct_softmax() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(7, 50)).astype(np.float32)
    tokens = rng.integers(0, 50, size=7)
    probs = np.exp(logits.astype(np.float64))
    probs /= probs.sum(axis=1, keepdims=True)
    nll = -np.log(probs[np.arange(6), tokens[1:]])
    expected = float(np.exp(nll.mean()))
    assert perplexity_from_logits(logits, tokens) == pytest.approx(expected, rel=1e-5)
    # a huge common offset would overflow a naive exp; the shifted log-softmax ignores it
    assert perplexity_from_logits(logits + 1e4, tokens) == pytest.approx(expected, rel=1e-3)


def test_perplexity_from_logits_edge_cases() -> None:
    assert perplexity_from_logits(np.zeros((5, 32)), [1, 2, 3, 4, 5]) == pytest.approx(32.0)
    assert math.isnan(perplexity_from_logits(np.zeros((1, 32)), [3]))
    assert math.isnan(perplexity_from_logits(np.zeros((0, 32)), []))
    with pytest.raises(SchemaError, match=r"shape \(4, vocab\)"):
        perplexity_from_logits(np.zeros((2, 32)), [1, 2, 3, 4])


def test_fluent_text_beats_shuffled_words_and_random_characters(
    reference_lm: ReferenceLM,
) -> None:
    shuffled = [_shuffled(t, seed) for seed, t in enumerate(FLUENT)]
    noise = _random_chars(len(FLUENT), seed=1)
    values = reference_lm.perplexities([*FLUENT, *shuffled, *noise])
    fluent, mixed, rand = np.split(values, 3)
    assert (fluent < mixed).all(), (fluent, mixed)
    assert fluent.max() < rand.min(), (fluent, rand)
    assert np.median(fluent) * 3 < np.median(mixed)


def test_values_are_finite_positive_and_repeatable(reference_lm: ReferenceLM) -> None:
    first = reference_lm.perplexities(FLUENT)
    assert first.shape == (len(FLUENT),)
    assert first.dtype == np.float64
    assert np.isfinite(first).all()
    assert (first > 1.0).all()
    assert np.array_equal(reference_lm.perplexities(FLUENT), first)
    # state is reset between texts: a text alone scores as it does after another one
    assert np.array_equal(reference_lm.perplexities(FLUENT[2:3]), first[2:3])


def test_empty_none_and_one_token_texts_give_nan(reference_lm: ReferenceLM) -> None:
    values = reference_lm.perplexities([None, "", "a", FLUENT[0]])
    assert np.isnan(values[:3]).all()
    assert np.isfinite(values[3])
    assert reference_lm.perplexities([]).shape == (0,)


def test_max_tokens_truncates(reference_lm: ReferenceLM, monkeypatch: pytest.MonkeyPatch) -> None:
    text = " ".join(FLUENT)
    full = reference_lm.perplexities([text])[0]
    monkeypatch.setattr(reference_lm, "max_tokens", 6)
    head = reference_lm.perplexities([text])[0]
    assert head != full
    # both texts start with the same 6 tokens, which are all that is scored
    assert reference_lm.perplexities([FLUENT[0]])[0] == head


def test_duplicates_are_evaluated_once(
    reference_lm: ReferenceLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    scored: list[str] = []
    score = reference_lm._score

    def counting(text: str) -> float:
        scored.append(text)
        return score(text)

    monkeypatch.setattr(reference_lm, "_score", counting)
    values = reference_lm.perplexities([FLUENT[0], FLUENT[1], FLUENT[0], None, FLUENT[0]])
    assert scored == [FLUENT[0], FLUENT[1]]
    assert values[0] == values[2] == values[4]


def test_cache_answers_a_second_instance_without_loading_the_model(
    reference_lm: ReferenceLM, tmp_path: Path
) -> None:
    path = tmp_path / "cache" / "perplexity.sqlite"
    texts = [*FLUENT, None, "a"]
    writer = ReferenceLM(cache_path=path)
    written = writer.perplexities(texts)
    assert np.array_equal(written, reference_lm.perplexities(texts), equal_nan=True)

    reader = ReferenceLM(cache_path=path)
    read = reader.perplexities(list(reversed(texts)))
    assert np.array_equal(read, written[::-1], equal_nan=True)
    assert reader._llm is None  # every value came from the file
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        rows = db.execute("SELECT fingerprint, max_tokens, perplexity FROM perplexities")
        stored = rows.fetchall()
    assert len(stored) == len(FLUENT) + 1  # "a" is cached as NULL, None is never evaluated
    assert {(fp, mt) for fp, mt, _ in stored} == {(reference_lm.fingerprint, 256)}


def test_cache_is_written_in_batches_and_keyed_by_max_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "perplexity.sqlite"
    texts = [f"text number {i}" for i in range(300)]  # more than one write batch and a bar
    lm = ReferenceLM(cache_path=path)
    monkeypatch.setattr(lm, "_score", lambda text: float(len(text)))
    assert lm.perplexities(texts).tolist() == [float(len(t)) for t in texts]
    short = ReferenceLM(cache_path=path, max_tokens=8)
    monkeypatch.setattr(short, "_score", lambda text: 1.0)
    assert short.perplexities(texts[:3]).tolist() == [1.0, 1.0, 1.0]  # not the other's rows
    assert lm._llm is None
    assert short._llm is None
    with sqlite3.connect(path) as db:
        counts = dict(db.execute("SELECT max_tokens, COUNT(*) FROM perplexities GROUP BY 1"))
    assert counts == {256: 300, 8: 3}


def test_fingerprint_is_the_sha256_of_the_weights(reference_lm: ReferenceLM) -> None:
    assert reference_lm.fingerprint.startswith("sha256:")
    assert len(reference_lm.fingerprint) == len("sha256:") + 64
    assert ReferenceLM().fingerprint == reference_lm.fingerprint


def test_bad_settings_and_weights_raise_clear_errors(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ConfigError, match=r"max_tokens must lie in \[2, n_ctx=512\], got 1024"):
        ReferenceLM(max_tokens=1024)
    missing = ReferenceLM(model_path=tmp_path / "absent.gguf")
    with pytest.raises(BackendError, match=r"absent\.gguf' do not exist"):
        _ = missing.fingerprint
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a gguf file" * 100)
    capfd.readouterr()
    with pytest.raises(BackendError, match=r"llama\.cpp cannot load the reference LM"):
        ReferenceLM(model_path=garbage).perplexities(["hello there, friend"])
    assert capfd.readouterr().err == ""  # llama.cpp's C-level complaints are silenced


def test_shared_reference_lm_is_one_instance_per_paths(tmp_path: Path) -> None:
    default = shared_reference_lm()
    assert shared_reference_lm(smollm2_gguf_path()) is default
    cached = shared_reference_lm(cache_path=tmp_path / "a.sqlite")
    assert cached is not default
    assert shared_reference_lm(cache_path=tmp_path / "a.sqlite") is cached
    assert cached.cache_path == tmp_path / "a.sqlite"


def test_percentile_ceiling_ignores_nan() -> None:
    values = np.array([1.0, np.nan, 2.0, 3.0, 4.0, np.nan, 5.0])
    assert percentile_ceiling(values, 50.0) == pytest.approx(3.0)
    assert percentile_ceiling(values) == pytest.approx(np.percentile([1, 2, 3, 4, 5], 95))
    assert percentile_ceiling(values, 100.0) == pytest.approx(5.0)
    with pytest.raises(SchemaError, match="no finite perplexity among 2 values"):
        percentile_ceiling(np.array([np.nan, np.nan]))
    with pytest.raises(ConfigError, match="got 120"):
        percentile_ceiling(values, 120)


def test_share_above_counts_finite_values_only() -> None:
    values = np.array([1.0, 2.0, np.nan, 10.0, 20.0])
    assert share_above(values, 5.0) == pytest.approx(0.5)
    assert share_above(values, 20.0) == 0.0  # strictly above
    assert share_above(values, 0.0) == 1.0
    assert share_above(np.array([np.nan]), 1.0) == 0.0
    assert share_above(np.array([]), 1.0) == 0.0


def test_real_banking77_texts_are_more_fluent_than_their_shuffles(
    reference_lm: ReferenceLM, banking77_dir: Path
) -> None:
    texts = pl.read_csv(banking77_dir / "train.csv")["text"].head(40).to_list()
    real = reference_lm.perplexities(texts)
    mixed = reference_lm.perplexities([_shuffled(t, i) for i, t in enumerate(texts)])
    assert np.isfinite(real).all()
    assert np.median(real) * 2 < np.median(mixed)
    assert share_above(mixed, percentile_ceiling(real, 95.0)) > 0.3
