"""Row filters: one reason per rejected row, deterministic order, real-model copies caught."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from checks.reference import QualityReference
from checks.row_filters import REJECT_CATEGORIES, filter_samples, rejection_reasons
from factory.config import ChecksConfig
from factory.errors import SchemaError
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from tests.fixtures.samples import Banking, MakeSamples

D = 32
CORPUS_TEXTS = ["How do I top up my card?", "Where is my new card?"]


def _e(i: int, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    v = np.zeros(D, dtype=np.float32)
    v[i] = 1.0
    if noise:
        v += np.random.default_rng(seed).normal(scale=noise, size=D).astype(np.float32)
    return v / np.linalg.norm(v)


def _crafted(make_samples: MakeSamples) -> tuple[pl.DataFrame, np.ndarray, dict[str, str | None]]:
    fine = "A perfectly fine question about fees?"
    rows = [  # (text, achieved, vector, expected category or None)
        ("", 0.7, _e(0), "empty"),
        ("   \n ", 0.7, _e(1), "empty"),
        ("short", 0.7, _e(2), "too_short"),
        ("x" * 2001, 0.7, _e(3), "too_long"),
        ("An on-topic looking text, far from target", 0.1, _e(4), "off_target"),
        ("Another text with no usable cosine", float("nan"), _e(5), "off_target"),
        ("  HOW DO I   top up my card? ", 0.7, _e(6), "corpus_copy"),
        ("A rewording that embeds onto a corpus row", 0.7, _e(20, 0.02), "corpus_copy"),
        (fine, 0.7, _e(8), None),
        ("Nearly the same vector as the fine one", 0.7, _e(8, 0.02, seed=1), "duplicate"),
        (" a PERFECTLY fine question about fees? ", 0.7, _e(10), "duplicate"),
        ("Same vector as the off-target row, kept", 0.7, _e(4), None),
        ("A distinct and acceptable sample text", 0.7, _e(12), None),
        ("Here's another message in the same style: can I top up?", 0.9, _e(14), "meta_talk"),
    ]
    texts, achieved, vectors, expected = zip(*rows, strict=True)
    samples = make_samples(list(texts), achieved=list(achieved))
    expect = dict(zip(samples["sample_id"].to_list(), expected, strict=True))
    return samples, np.stack(vectors), expect


def _corpus_vectors() -> np.ndarray:
    return np.stack([_e(20), _e(21)])


def test_each_filter_gives_its_reason(make_samples: MakeSamples) -> None:
    samples, vectors, expected = _crafted(make_samples)
    accepted, rejects = filter_samples(
        samples, vectors, _corpus_vectors(), CORPUS_TEXTS, ChecksConfig()
    )
    SYNTHETIC_SAMPLES.validate(accepted)
    SYNTHETIC_REJECTS.validate(rejects)
    assert accepted.columns == SYNTHETIC_SAMPLES.column_names
    assert rejects.columns == SYNTHETIC_REJECTS.column_names
    got = {
        sid: reason.split(":")[0] for sid, reason in rejects.select("sample_id", "reason").rows()
    }
    assert got == {sid: cat for sid, cat in expected.items() if cat is not None}
    assert sorted(accepted["sample_id"]) == sorted(s for s, c in expected.items() if c is None)
    assert set(got.values()) <= set(REJECT_CATEGORIES)
    reasons = dict(rejects.select("sample_id", "reason").rows())
    assert reasons["s002"] == "too_short: 5 chars < min_chars 12"
    assert "0.100 < min_target_cosine 0.2" in reasons["s004"]
    assert reasons["s009"].endswith("to sample s008")
    assert reasons["s010"] == "duplicate: same normalized text as sample s008"
    assert accepted.height + rejects.height == samples.height


def test_thresholds_come_from_config(make_samples: MakeSamples) -> None:
    samples, vectors, _ = _crafted(make_samples)
    loose = ChecksConfig(min_chars=1, max_chars=5000, min_target_cosine=-1.0)
    reasons = rejection_reasons(samples, vectors, _corpus_vectors(), CORPUS_TEXTS, loose)
    by_id = dict(zip(samples["sample_id"], reasons, strict=True))
    assert [by_id["s002"], by_id["s003"], by_id["s004"]] == [None, None, None]
    assert str(by_id["s011"]).startswith("duplicate")  # s004 is kept now, s011 repeats it


def test_order_is_by_sample_id_whatever_the_input_order(make_samples: MakeSamples) -> None:
    samples, vectors, _ = _crafted(make_samples)
    perm = np.random.default_rng(7).permutation(samples.height)
    shuffled = samples[perm.tolist()]
    a1, r1 = filter_samples(samples, vectors, _corpus_vectors(), CORPUS_TEXTS, ChecksConfig())
    a2, r2 = filter_samples(
        shuffled, vectors[perm], _corpus_vectors(), CORPUS_TEXTS, ChecksConfig()
    )
    assert a1.equals(a2)
    assert r1.equals(r2)
    assert a1["sample_id"].is_sorted()
    assert r1["sample_id"].is_sorted()


def test_earlier_id_wins_a_duplicate_pair(make_samples: MakeSamples) -> None:
    samples = make_samples(
        ["The second written text here", "The first written text here"], ids=["b", "a"]
    )
    vectors = np.stack([_e(1), _e(1)])
    accepted, rejects = filter_samples(samples, vectors, np.zeros((0, D)), [], ChecksConfig())
    assert accepted["sample_id"].to_list() == ["a"]
    assert rejects["reason"].to_list() == ["duplicate: cosine 1.000 >= 0.95 to sample a"]


def test_mismatched_vectors_are_an_error(make_samples: MakeSamples) -> None:
    samples, vectors, _ = _crafted(make_samples)
    with pytest.raises(SchemaError, match="sample_vectors has 13 rows but samples has 14"):
        filter_samples(samples, vectors[:-1], _corpus_vectors(), CORPUS_TEXTS, ChecksConfig())


def test_empty_input(make_samples: MakeSamples) -> None:
    accepted, rejects = filter_samples(
        make_samples([]), np.zeros((0, D)), _corpus_vectors(), CORPUS_TEXTS, ChecksConfig()
    )
    assert (accepted.height, rejects.height) == (0, 0)
    assert rejects.columns == SYNTHETIC_REJECTS.column_names


def test_real_minilm_catches_copies_and_duplicates(
    banking_samples: Banking, minilm: object
) -> None:
    corpus_text = banking_samples.corpus["text"][0]
    sample_text = banking_samples.samples["text"][5]
    injected = {
        "zz-copy": corpus_text.upper() + "  ",
        "zz-dupe": sample_text + " ",
        "zz-trunc": sample_text[:6],
    }
    extra_vectors = minilm.embed(list(injected.values()))  # type: ignore[attr-defined]
    extra = pl.DataFrame({"sample_id": list(injected), "text": list(injected.values())}).join(
        banking_samples.samples.drop("sample_id", "text").head(3).with_row_index("_i"), how="cross"
    )
    extra = extra.filter(pl.col("_i") == 0).drop("_i").select(SYNTHETIC_SAMPLES.column_names)
    samples = pl.concat([banking_samples.samples, extra])
    vectors = np.vstack([banking_samples.sample_vectors, extra_vectors])
    accepted, rejects = filter_samples(
        samples,
        vectors,
        banking_samples.corpus_vectors,
        banking_samples.corpus["text"].to_list(),
        ChecksConfig(),
    )
    reasons = dict(rejects.select("sample_id", "reason").rows())
    assert reasons["zz-copy"].startswith("corpus_copy")
    assert reasons["zz-dupe"].startswith("duplicate")
    assert reasons["zz-trunc"].startswith("too_short")
    real_rejects = rejects.filter(~pl.col("sample_id").str.starts_with("zz-"))
    assert (
        real_rejects.height <= 0.05 * banking_samples.samples.height
    )  # real validation rows mostly pass
    assert accepted.height + rejects.height == samples.height


def test_a_text_in_another_language_is_rejected_when_the_language_is_given(
    make_samples: MakeSamples,
) -> None:
    texts = [
        "How can I see the exchange rate for my transfer?",
        "Wie kann ich den Wechselkurs für meine Überweisung sehen?",
    ]
    samples = make_samples(texts, achieved=[0.7, 0.7])
    vectors = np.stack([_e(0), _e(1)])
    language = _reference(CORPUS_TEXTS).expected_language(ChecksConfig())
    assert language == "en"
    assert _reference(CORPUS_TEXTS).expected_language(ChecksConfig(language="de")) == "de"
    reference = _reference(CORPUS_TEXTS)
    assert reference.subset_languages(1) is reference.subset_languages(1)  # detected once
    assert len(reference.subset_languages(1)) == 1
    accepted, rejects = filter_samples(
        samples, vectors, _corpus_vectors(), CORPUS_TEXTS, ChecksConfig(), (), language
    )
    assert accepted["text"].to_list() == texts[:1]
    assert rejects["reason"].to_list() == ["language: detected 'de', expected 'en'"]
    kept, _ = filter_samples(samples, vectors, _corpus_vectors(), CORPUS_TEXTS, ChecksConfig())
    assert kept.height == 2  # no language given: no language filter


def _reference(texts: list[str]) -> QualityReference:
    n = len(texts)
    vectors = np.zeros((n, 4), dtype=np.float32)
    return QualityReference(
        [f"d{i}" for i in range(n)], list(texts), [None] * n, [None] * n, vectors
    )
