"""Held-out perplexity on the real SmolLM2 base model."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from factory.errors import FactoryError
from factory.training.perplexity import perplexity


def test_perplexity_does_not_depend_on_batching(
    base_lm: tuple[Any, Any], banking_training_texts: list[str]
) -> None:
    model, tokenizer = base_lm
    one = perplexity(model, tokenizer, banking_training_texts[:6], max_length=48, batch_size=1)
    many = perplexity(model, tokenizer, banking_training_texts[:6], max_length=48, batch_size=8)
    assert math.isfinite(one)
    assert one > 1.0
    assert many == pytest.approx(one, rel=1e-4)


def test_perplexity_is_token_weighted(
    base_lm: tuple[Any, Any], banking_training_texts: list[str]
) -> None:
    model, tokenizer = base_lm
    short, long = banking_training_texts[0], " ".join(banking_training_texts[1:4])
    n_short = len(tokenizer(short)["input_ids"]) - 1
    n_long = len(tokenizer(long)["input_ids"]) - 1
    assert n_short != n_long
    p_short = perplexity(model, tokenizer, [short], max_length=256)
    p_long = perplexity(model, tokenizer, [long], max_length=256)
    p_both = perplexity(model, tokenizer, [short, long], max_length=256)
    expected = (n_short * math.log(p_short) + n_long * math.log(p_long)) / (n_short + n_long)
    assert math.log(p_both) == pytest.approx(expected, rel=1e-4)


def test_natural_text_scores_better_than_scrambled(
    base_lm: tuple[Any, Any], banking_training_texts: list[str]
) -> None:
    model, tokenizer = base_lm
    rng = random.Random(0)
    scrambled = []
    for text in banking_training_texts[:8]:
        words = text.split()
        rng.shuffle(words)
        scrambled.append(" ".join(words))
    natural = perplexity(model, tokenizer, banking_training_texts[:8], max_length=48)
    assert natural < perplexity(model, tokenizer, scrambled, max_length=48)


def test_truncation_limits_the_scored_tokens(base_lm: tuple[Any, Any]) -> None:
    model, tokenizer = base_lm
    text = "How do I top up my card? " * 20
    ids = tokenizer(text)["input_ids"]
    head = tokenizer.decode(ids[:16])
    assert tokenizer(head)["input_ids"] == ids[:16]
    assert perplexity(model, tokenizer, [text], max_length=16) == pytest.approx(
        perplexity(model, tokenizer, [head], max_length=512), rel=1e-4
    )


def test_training_mode_is_restored(base_lm: tuple[Any, Any]) -> None:
    model, tokenizer = base_lm
    model.train()
    try:
        perplexity(model, tokenizer, ["How do I top up?"], max_length=16)
        assert model.training
    finally:
        model.eval()


def test_nothing_to_score_is_an_error(base_lm: tuple[Any, Any]) -> None:
    model, tokenizer = base_lm
    with pytest.raises(FactoryError, match="at least one text"):
        perplexity(model, tokenizer, [], max_length=16)
    with pytest.raises(FactoryError, match="none of the 1 texts has a token to score"):
        perplexity(model, tokenizer, ["a"], max_length=16)
