"""Great Expectations suites: real banking77 rows pass, corrupted or skewed sets fail."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from checks.frames import INSUFFICIENT, JUDGED, bias_frame
from checks.suites import FAMILIES, CheckOutcome, build_suite, run_family
from factory.config import ChecksConfig
from factory.errors import ConfigError
from tests.checks.conftest import Banking, MakeSamples

NEUTRAL = "paid the electricity bill at the bank branch on the corner today"


def _run(
    family: str,
    samples: pl.DataFrame,
    vectors: np.ndarray | None = None,
    corpus_texts: list[str] | None = None,
    corpus_vectors: np.ndarray | None = None,
    config: ChecksConfig | None = None,
    **kwargs: object,
) -> CheckOutcome:
    vectors = np.zeros((samples.height, 4)) if vectors is None else vectors
    corpus_vectors = np.zeros((0, 4)) if corpus_vectors is None else corpus_vectors
    return run_family(
        family,
        samples,
        vectors,
        corpus_texts or [],
        corpus_vectors,
        config or ChecksConfig(),
        **kwargs,  # type: ignore[arg-type]
    )


def _assert_consistent(outcome: CheckOutcome) -> None:
    assert outcome.result_json["success"] is outcome.passed
    assert outcome.result_json["suite_name"] == f"factory_{outcome.family}"
    json.dumps([outcome.result_json, outcome.observed, outcome.thresholds])
    assert all(e["success"] for e in outcome.expectations()) is outcome.passed


@pytest.mark.parametrize("family", FAMILIES)
def test_real_validation_rows_pass(banking: Banking, family: str) -> None:
    outcome = _run(
        family,
        banking.samples,
        banking.sample_vectors,
        banking.corpus["text"].to_list(),
        banking.corpus_vectors,
    )
    assert outcome.passed, outcome.details
    _assert_consistent(outcome)
    if family == "diversity":
        assert outcome.observed["duplicate_rate"] <= 0.2
        assert 0.7 < outcome.observed["diversity_ratio"] < 1.3  # same distribution as the corpus
    if family == "coherence":
        assert outcome.observed["length_ok_share"] == 1.0
        assert outcome.observed["rows"] == banking.samples.height


def test_corrupted_copy_fails(banking: Banking, minilm: object) -> None:
    texts = banking.samples["text"].to_list()
    corrupted = [texts[i % 5] for i in range(80)]  # 80 copies of five rows
    corrupted += [t[:6] for t in texts[80:140]]  # 60 truncated texts
    corrupted += texts[140:]
    samples = banking.samples.with_columns(pl.Series("text", corrupted))
    vectors = minilm.embed(corrupted)  # type: ignore[attr-defined]
    corpus = (banking.corpus["text"].to_list(), banking.corpus_vectors)
    coherence = _run("coherence", samples, vectors, *corpus)
    diversity = _run("diversity", samples, vectors, *corpus)
    assert not coherence.passed
    assert coherence.observed["length_ok_share"] == pytest.approx(140 / 200)
    assert "expect_column_value_lengths_to_be_between(text)" in coherence.details
    assert not diversity.passed
    assert diversity.observed["duplicate_rate"] > 0.3
    _assert_consistent(coherence)
    _assert_consistent(diversity)


def test_duplicates_and_a_tight_cluster_fail_diversity(make_samples: MakeSamples) -> None:
    rng = np.random.default_rng(0)
    corpus_vectors = rng.normal(size=(200, 32))
    spread = rng.normal(size=(50, 32))
    texts = [f"sample number {i} about card fees" for i in range(50)]
    samples = make_samples(texts)
    ok = _run("diversity", samples, spread, corpus_vectors=corpus_vectors)
    assert ok.passed, ok.details

    duplicated = np.vstack([spread[:30], spread[:20]])  # 20 of 50 repeat an earlier row
    dup = _run("diversity", samples, duplicated, corpus_vectors=corpus_vectors)
    assert not dup.passed
    assert dup.observed["duplicate_rate"] == pytest.approx(0.4)

    center = spread[0] / np.linalg.norm(spread[0])
    tight = center + rng.normal(scale=0.08, size=(50, 32))  # pairwise cosine about 0.83
    narrow = _run("diversity", samples, tight, corpus_vectors=corpus_vectors)
    assert narrow.observed["duplicate_rate"] <= 0.2
    assert "expect_column_values_to_be_between(diversity_ratio)" in narrow.details
    assert narrow.observed["diversity_ratio"] < 0.5
    assert not narrow.passed
    assert "diversity ratio" in narrow.details


def test_diversity_undefined_for_one_sample_fails(make_samples: MakeSamples) -> None:
    outcome = _run(
        "diversity",
        make_samples(["only one sample here"]),
        np.ones((1, 4)),
        corpus_vectors=np.eye(4),
    )
    assert outcome.observed["diversity_ratio"] is None
    assert not outcome.passed
    assert "undefined" in outcome.details


def _gendered(n_she: int, n_he: int, n_neutral: int) -> list[str]:
    return [f"she {NEUTRAL}"] * n_she + [f"he {NEUTRAL}"] * n_he + [f"they {NEUTRAL}"] * n_neutral


def test_skewed_gender_fails_bias_and_balanced_passes(make_samples: MakeSamples) -> None:
    corpus = _gendered(20, 20, 80)
    skewed = make_samples(_gendered(0, 60, 0))
    balanced = make_samples(_gendered(10, 10, 40))
    bad = _run("bias", skewed, corpus_texts=corpus)
    good = _run("bias", balanced, corpus_texts=corpus)
    assert not bad.passed
    assert bad.observed["over_represented"] == ["gender/male"]
    assert bad.observed["groups"]["gender/male"]["ratio"] > 3.0
    assert "gender/male" in bad.details
    assert good.passed, good.details
    assert good.observed["groups"]["gender/male"]["ratio"] == pytest.approx(1.0, abs=0.1)
    assert good.observed["groups"]["gender/female"]["evidence"] == JUDGED
    _assert_consistent(bad)
    _assert_consistent(good)


def test_thin_evidence_is_recorded_not_judged(make_samples: MakeSamples) -> None:
    samples = make_samples(["Is the branch near the mosque open?", "Can I pay the mosque fee?"])
    corpus = [NEUTRAL] * 50
    outcome = _run("bias", samples, corpus_texts=corpus)
    muslim = outcome.observed["groups"]["religion/muslim"]
    assert (muslim["sample_count"], muslim["corpus_count"]) == (2, 0)
    assert muslim["evidence"] == INSUFFICIENT
    assert muslim["ratio"] is None
    assert "religion/muslim" in outcome.observed["insufficient_evidence"]
    assert outcome.passed
    judged = _run("bias", samples, corpus_texts=corpus, config=ChecksConfig(bias_min_count=2))
    assert not judged.passed
    assert judged.observed["over_represented"] == ["religion/muslim"]


def test_bias_frame_columns() -> None:
    frame = bias_frame(["she paid"], ["he paid"], ChecksConfig())
    assert frame.columns == [
        "group",
        "attribute",
        "sample_count",
        "corpus_count",
        "sample_share",
        "corpus_share",
        "ratio",
        "evidence",
    ]
    assert frame["group"].is_sorted()


def test_coherence_mostly_tolerates_a_few_rows(make_samples: MakeSamples) -> None:
    texts = [f"a well formed sample text number {i}" for i in range(29)] + ["tiny"]
    samples = make_samples(texts)
    assert _run("coherence", samples).passed
    strict = _run("coherence", samples, mostly=1.0)
    assert not strict.passed
    assert strict.thresholds["mostly"] == 1.0
    off = make_samples(texts[:29], achieved=[0.05] * 29)
    assert not _run("coherence", off).passed


def test_empty_sample_set_fails_coherence(make_samples: MakeSamples) -> None:
    outcome = _run("coherence", make_samples([]), np.zeros((0, 4)))
    assert not outcome.passed
    assert "expect_table_row_count_to_be_between" in outcome.details


def test_unknown_family_is_an_error(make_samples: MakeSamples) -> None:
    with pytest.raises(ConfigError, match="unknown check family 'toxicity'"):
        _run("toxicity", make_samples(["a sample text here"]))
    with pytest.raises(ConfigError, match="expected one of"):
        build_suite("toxicity", ChecksConfig())


def test_criteria_pair_thresholds_with_observed_metrics(make_samples: MakeSamples) -> None:
    texts = [f"a well formed sample text number {i}" for i in range(20)]
    outcome = _run("coherence", make_samples(texts, achieved=[0.3 + i / 100 for i in range(20)]))
    criteria = {c["name"]: c for c in outcome.criteria()}
    assert set(criteria) == set(outcome.thresholds)
    assert criteria["min_chars"]["observed"] == float(min(len(t) for t in texts))
    assert criteria["min_target_cosine"]["observed"] == pytest.approx(0.3)
    assert criteria["mostly"]["observed"] == 1.0
    diversity = _run("diversity", make_samples(texts), np.eye(20), corpus_vectors=np.eye(20))
    by_name = {c["name"]: c for c in diversity.criteria()}
    assert by_name["min_diversity_ratio"]["observed"] == pytest.approx(1.0)
    assert by_name["duplicate_cosine"]["metric"] is None
