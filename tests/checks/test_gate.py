"""The whole gate on real banking77 rows: the validation split passes, each crafted set fails.

Real MiniLM vectors, the real SmolLM2 reference LM (llama.cpp in-process), real py3langid,
VADER and the better_profanity list; a slice of banking77 `test.csv` is the declared
evaluation set.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from checks.contamination import load_eval_set
from checks.gate import QualityGate
from checks.measure import SampleSet
from checks.reference import QualityReference, QualityTools
from checks.specs import DEFAULT_BLOCKING, SPECS
from checks.suites import SuiteReport
from factory.config import ChecksConfig
from tests.fixtures.samples import Banking

Corrupt = Callable[[pl.DataFrame, "Context"], pl.DataFrame]


class Context:
    """What a corruption may borrow: train rows and the evaluation items."""

    def __init__(self, banking_samples: Banking, eval_texts: list[str]) -> None:
        self.train_texts = banking_samples.corpus["text"].to_list()
        self.eval_texts = eval_texts


@pytest.fixture(scope="session")
def eval_csv(banking77_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 300 rows of banking77 test.csv, as a declared evaluation set."""
    frame = pl.read_csv(banking77_dir / "test.csv").head(300)
    path = tmp_path_factory.mktemp("eval") / "banking77-test.csv"
    frame.write_csv(path)
    return path


@pytest.fixture(scope="session")
def gate(
    banking_samples: Banking,
    minilm: object,
    eval_csv: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> QualityGate:
    """The gate of the 300-row banking77 train slice (reference LM cache in a temp folder)."""
    corpus = banking_samples.corpus
    reference = QualityReference(
        doc_ids=corpus["doc_id"].to_list(),
        texts=corpus["text"].to_list(),
        labels=corpus["label"].to_list(),
        groups=corpus["label"].to_list(),
        vectors=banking_samples.corpus_vectors,
        embedder_fingerprint=banking_samples.fingerprint,
    )
    tools = QualityTools(minilm, cache_dir=tmp_path_factory.mktemp("quality-cache"))  # type: ignore[arg-type]
    eval_set = load_eval_set(eval_csv, name="banking77-test")
    eval_sets = [(eval_set, tools.embed(list(eval_set.texts)))]
    return QualityGate(reference, eval_sets, ChecksConfig(), tools)


def _judge(gate: QualityGate, samples: pl.DataFrame, **kwargs: object) -> SuiteReport:
    vectors = gate.tools.embed(samples["text"].to_list())
    return gate.judge(SampleSet(samples, vectors), **kwargs)  # type: ignore[arg-type]


def test_real_validation_split_passes_every_blocking_check(
    gate: QualityGate, banking_samples: Banking
) -> None:
    report = _judge(gate, banking_samples.samples, gap_ids=["gap-test"])
    by_name = report.by_name()
    assert sorted(by_name) == sorted(SPECS)
    assert report.failed_blocking() == [], [c.sentence() for c in report.failed_blocking()]
    for name in DEFAULT_BLOCKING:
        assert by_name[name].applicable, by_name[name].note
    # the warn-level checks that apply to real rows pass too
    for name in ("spread", "vendi", "distinct_2", "sentiment", "gaps_reached"):
        assert by_name[name].passed, by_name[name].sentence()
    json.dumps(report.as_dict())
    for c in report.checks:
        print(c.sentence())


def _with_texts(samples: pl.DataFrame, texts: list[str]) -> pl.DataFrame:
    return samples.with_columns(pl.Series("text", texts, dtype=pl.String))


def _shuffled_words(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    rng = np.random.default_rng(0)
    texts = []
    for t in samples["text"].to_list():
        words = t.split()
        texts.append(" ".join(rng.permutation(words).tolist()) + " zx qv")
    return _with_texts(samples, texts)


def _german(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    german = [
        "Ich möchte meine Karte mit einer Überweisung aufladen, wie geht das?",
        "Warum wurde mir für die Abhebung am Geldautomaten eine Gebühr berechnet?",
        "Meine Karte ist noch nicht angekommen, was soll ich jetzt tun?",
        "Wie lange dauert es, bis die Überweisung auf meinem Konto ist?",
    ]
    texts = samples["text"].to_list()
    return _with_texts(samples, [german[i % 4] if i % 2 else t for i, t in enumerate(texts)])


def _duplicates(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(samples, [texts[i % 40] for i in range(len(texts))])


def _corpus_copies(samples: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(samples, [ctx.train_texts[i] if i % 3 == 0 else t
                                 for i, t in enumerate(texts)])  # fmt: skip


def _leaked_test_items(samples: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(samples, [ctx.eval_texts[i] if i % 5 == 0 else t
                                 for i, t in enumerate(texts)])  # fmt: skip


def _emails(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(
        samples,
        [f"{t} Reach me at jane.doe{i}@example.com" if i % 10 == 0 else t
         for i, t in enumerate(texts)],
    )  # fmt: skip


def _toxic(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(
        samples, [f"{t} you stupid idiot, this is shit" if i % 8 == 0 else t
                  for i, t in enumerate(texts)],
    )  # fmt: skip


def _too_short(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(samples, [t[:5] if i % 4 == 0 else t for i, t in enumerate(texts)])


def _duplicate_ids(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    ids = samples["sample_id"].to_list()
    return samples.with_columns(pl.Series("sample_id", [ids[0]] * 2 + ids[2:]))


def _off_target(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    achieved = [0.05 if i % 5 == 0 else a for i, a in enumerate(samples["achieved_cosine"])]
    return samples.with_columns(pl.Series("achieved_cosine", achieved, dtype=pl.Float64))


def _shuffled_labels(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    labels = samples["label"].to_list()
    rng = np.random.default_rng(1)
    return samples.with_columns(pl.Series("label", rng.permutation(labels).tolist()))


def _one_intent(samples: pl.DataFrame, ctx: Context) -> pl.DataFrame:
    variants = [
        f"how do I top up my card {w}" for w in ("today", "now", "please", "quickly", "online")
    ]
    texts = [variants[i % 5] + f" {'again ' * (i % 3)}".rstrip() for i in range(samples.height)]
    return _with_texts(samples, texts).with_columns(pl.lit("top_up_failed").alias("label"))


def _skewed_gender(samples: pl.DataFrame, _: Context) -> pl.DataFrame:
    texts = samples["text"].to_list()
    return _with_texts(
        samples, [f"{t} She asked her husband." if i % 2 else t for i, t in enumerate(texts)]
    )


CRAFTED: dict[str, Corrupt] = {
    "fluency": _shuffled_words,
    "language": _german,
    "near_duplicates": _duplicates,
    "corpus_copies": _corpus_copies,
    "contamination": _leaked_test_items,
    "privacy": _emails,
    "toxicity": _toxic,
    "length": _too_short,
    "schema": _duplicate_ids,
    "target_cosine": _off_target,
    "label_consistency": _shuffled_labels,
    "spread": _one_intent,
    "vendi": _one_intent,
    "distinct_2": _one_intent,
    "mix_drift": _one_intent,
    "protected_terms": _skewed_gender,
}


@pytest.mark.parametrize("check", sorted(CRAFTED))
def test_each_check_fails_on_data_crafted_for_it(
    gate: QualityGate, banking_samples: Banking, check: str
) -> None:
    eval_texts = list(gate.eval_sets[0][0].texts)
    crafted = CRAFTED[check](banking_samples.samples, Context(banking_samples, eval_texts))
    result = _judge(gate, crafted).by_name()[check]
    assert result.applicable, result.note
    assert not result.passed, result.sentence()
    assert result.blocking is (check in DEFAULT_BLOCKING)


def test_gaps_reached_counts_targeted_gaps(gate: QualityGate, banking_samples: Banking) -> None:
    gaps = ["gap-test", *(f"gap-missed-{i}" for i in range(3))]
    result = _judge(gate, banking_samples.samples, gap_ids=gaps).by_name()["gaps_reached"]
    assert result.observed == pytest.approx(0.25)
    assert not result.passed


def test_checks_without_evidence_are_not_applicable(
    gate: QualityGate, banking_samples: Banking
) -> None:
    bare = banking_samples.samples.select(
        "sample_id", "text"
    )  # an external set: no labels, no targets
    report = _judge(gate, bare).by_name()
    for name in ("target_cosine", "label_consistency", "gaps_reached", "mix_drift"):
        assert report[name].status == "not applicable", report[name].sentence()
        assert report[name].passed
    assert report["fluency"].applicable


def test_gx_results_carry_every_applicable_check(
    gate: QualityGate, banking_samples: Banking
) -> None:
    report = _judge(gate, banking_samples.samples)
    checked = {
        res["expectation_config"]["meta"]["check"]
        for result in report.gx_results.values()
        for res in result["results"]
    }
    assert checked == {c.name for c in report.checks if c.applicable}
    assert {r["suite_name"] for r in report.gx_results.values()} == {
        f"factory_{f}" for f in ("bias", "coherence", "contamination", "diversity", "privacy")
    }


class _CountingEmbedder:
    """A stand-in embedder that counts the texts it embeds (the cache is what is tested)."""

    fingerprint = "counting-embedder-v1"

    def __init__(self) -> None:
        self.embedded = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.asarray([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_eval_set_vectors_are_stored_for_the_next_process(tmp_path: Path) -> None:
    from checks import gate as gate_module

    spec = tmp_path / "evals.csv"
    pl.DataFrame({"text": ["first item", "second, longer item"]}).write_csv(spec)
    embedder = _CountingEmbedder()
    tools = QualityTools(embedder, cache_dir=tmp_path / "cache")  # type: ignore[arg-type]
    [(_, first)] = gate_module.embedded_eval_sets([str(spec)], tools)
    gate_module._EVAL_CACHE.clear()  # a new process: only the folder remembers
    [(_, again)] = gate_module.embedded_eval_sets([str(spec)], tools)
    assert embedder.embedded == 2
    np.testing.assert_array_equal(again, first)
    pl.DataFrame({"text": ["first item", "a changed item"]}).write_csv(spec)
    gate_module._EVAL_CACHE.clear()
    [(_, changed)] = gate_module.embedded_eval_sets([str(spec)], tools)
    assert embedder.embedded == 4
    assert changed[1, 0] == len("a changed item")
