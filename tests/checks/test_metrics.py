"""Pure metrics on crafted vectors and texts, checked against brute force."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from checks.metrics import (
    LEXICON_DIR,
    LEXICON_FILES,
    distinct_n,
    load_lexicons,
    max_similarity_to,
    mean_pairwise_cosine_distance,
    near_duplicate_mask,
    near_duplicate_rate,
    parse_lexicon,
    protected_term_counts,
    term_shares,
    unit_rows,
    word_count,
)
from factory.errors import ConfigError, SchemaError


def _random(n: int, d: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)


def test_mean_pairwise_distance_equals_brute_force() -> None:
    vectors = _random(300) * 3.0  # not unit length: the metric normalizes
    unit = unit_rows(vectors).astype(np.float64)
    upper = np.triu_indices(300, k=1)
    expected = float((1.0 - (unit @ unit.T)[upper]).mean())
    assert mean_pairwise_cosine_distance(vectors) == pytest.approx(expected, abs=1e-6)


def test_mean_pairwise_distance_extremes() -> None:
    same = np.tile([[0.6, 0.8]], (50, 1))
    assert mean_pairwise_cosine_distance(same) == pytest.approx(0.0, abs=1e-6)
    assert mean_pairwise_cosine_distance(np.eye(4)) == pytest.approx(1.0)
    assert mean_pairwise_cosine_distance(np.array([[1.0, 0.0], [-1.0, 0.0]])) == pytest.approx(2.0)
    assert math.isnan(mean_pairwise_cosine_distance(np.ones((1, 3))))


def test_mean_pairwise_distance_is_exact_past_5000_rows() -> None:
    vectors = _random(6000, d=8, seed=1) + 1.0  # a shared offset keeps the mean well below 1
    unit = unit_rows(vectors).astype(np.float64)
    total = sum(float((unit[i : i + 1000] @ unit.T).sum()) for i in range(0, 6000, 1000))
    expected = 1.0 - (total - 6000.0) / (6000 * 5999)
    assert expected < 0.9
    assert mean_pairwise_cosine_distance(vectors) == pytest.approx(expected, abs=1e-9)


def test_near_duplicates_count_only_later_rows() -> None:
    base = _random(20, seed=2)
    rng = np.random.default_rng(3)
    near = base[:4] + rng.normal(scale=0.01, size=(4, 16)).astype(np.float32)
    vectors = np.vstack([base, near, base[:2]])  # 26 rows: 6 repeat an earlier row
    mask = near_duplicate_mask(vectors, 0.95)
    assert not mask[:20].any()
    assert mask[20:].all()
    assert near_duplicate_rate(vectors, 0.95) == pytest.approx(6 / 26)
    assert near_duplicate_rate(base, 0.95) == 0.0
    assert near_duplicate_rate(np.zeros((0, 16)), 0.95) == 0.0


def test_near_duplicates_across_blocks() -> None:
    base = _random(1500, d=64, seed=4)
    vectors = np.vstack([base, base[10:12]])  # duplicates of rows in the first block
    assert near_duplicate_mask(vectors, 0.99).sum() == 2


def test_max_similarity_blockwise_equals_brute_force() -> None:
    reference, vectors = _random(70, seed=5), _random(33, seed=6)
    expected = (unit_rows(vectors) @ unit_rows(reference).T).max(axis=1)
    got = max_similarity_to(reference, vectors, block_size=8)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert max_similarity_to(reference, reference[:5])[0] == pytest.approx(1.0, abs=1e-6)


def test_max_similarity_edge_cases() -> None:
    assert np.isneginf(max_similarity_to(np.zeros((0, 4)), _random(3, d=4))).all()
    with pytest.raises(SchemaError, match="width 8 but vectors have width 4"):
        max_similarity_to(_random(3, d=8), _random(3, d=4))
    with pytest.raises(SchemaError, match="2-D array"):
        unit_rows(np.ones(3))


@pytest.mark.parametrize("attribute", LEXICON_FILES)
def test_lexicon_files_are_small_lowercase_and_sourced(attribute: str) -> None:
    text = (LEXICON_DIR / f"{attribute}.txt").read_text(encoding="utf-8")
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("Source:" in line and "by hand" in line for line in header)
    groups = parse_lexicon(text, attribute)
    terms = set().union(*groups.values())
    assert len(groups) >= 2
    assert 20 <= len(terms) <= 60
    assert all(t == t.lower() and t.strip() == t for t in terms)


def test_load_lexicons_keys_groups_by_attribute() -> None:
    lexicons = load_lexicons()
    assert {"gender/female", "gender/male", "religion/muslim", "age/old"} <= set(lexicons)
    assert {key.split("/")[0] for key in lexicons} == set(LEXICON_FILES)
    assert "she" in lexicons["gender/female"]
    assert "he" in lexicons["gender/male"]
    lexicons["gender/male"].add("mutated")
    assert "mutated" not in load_lexicons()["gender/male"]


def test_parse_lexicon_rejects_terms_outside_a_group() -> None:
    with pytest.raises(ConfigError, match="before any"):
        parse_lexicon("# header\nshe\n[female]\nher\n", "gender")


def test_term_counts_match_whole_words_only() -> None:
    lexicons = {"g/male": {"he", "man"}, "g/female": {"she"}, "a/old": {"senior citizen"}}
    texts = [
        "The theme is what he said; HE agreed.",  # 'the', 'theme' must not match 'he'
        "She, a Senior   Citizen, met a mandolin player.",  # multi-word across spaces, not 'man'
        None,
        "",
    ]
    counts = protected_term_counts(texts, lexicons)
    assert counts == {"a/old": 1, "g/female": 1, "g/male": 2}
    shares = term_shares(texts, lexicons)
    words = word_count(texts)
    assert words == len(re.findall(r"\w+", " ".join(t for t in texts if t)))
    assert shares["g/male"] == pytest.approx(2 / words)
    assert term_shares([], lexicons) == {"a/old": 0.0, "g/female": 0.0, "g/male": 0.0}


def test_real_lexicons_on_plain_banking_text() -> None:
    counts = protected_term_counts(
        ["My old card was declined in the shop", "How do I top up by transfer?"], load_lexicons()
    )
    assert sum(counts.values()) == 0  # 'old' alone is not an age term


def test_distinct_n() -> None:
    texts = ["a b c a b", "A B"]
    assert distinct_n(texts, 1) == pytest.approx(3 / 7)
    assert distinct_n(texts, 2) == pytest.approx(3 / 5)  # (a b) (b c) (c a) (a b) + (a b)
    assert distinct_n(["same text"] * 10, 2) == pytest.approx(0.1)
    assert distinct_n(["one"], 2) == 0.0
    with pytest.raises(ConfigError, match="n >= 1"):
        distinct_n(texts, 0)
