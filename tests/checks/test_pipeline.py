"""filter_synthetic: a synthesis run's samples through the row filters, its rejects joined."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from checks.pipeline import filter_synthetic
from factory.config import FactoryConfig
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.synthesis import SynthesisResult
from tests.fixtures.samples import MakeSamples
from tests.fixtures.synthesis_fakes import TOPICS, BagEmbedder, documents

FINE = "could you tell me which exchange rate applies when I pay abroad on a sunday"
GERMAN = "Wann kommt endlich meine neue Karte mit der Post bei mir zu Hause an?"


def test_filtered_rows_join_the_runs_rejects_sorted_by_sample_id(
    tmp_path: Path, make_samples: MakeSamples
) -> None:
    emb = BagEmbedder()
    corpus = documents()
    embeddings = pl.DataFrame(
        {
            "doc_id": corpus["doc_id"],
            "vector": emb.embed(corpus["text"].to_list()),
            "model_fingerprint": [emb.fingerprint] * corpus.height,
        }
    )
    copy = TOPICS["card_arrival"][0]
    samples = make_samples([GERMAN, FINE, copy], ids=["s3", "s1", "s2"])
    unrealized = make_samples([""], ids=["s9"]).with_columns(
        pl.lit("not attempted: token budget reached").alias("reason")
    )
    result = SynthesisResult(
        samples, unrealized, {}, emb.embed(samples["text"].to_list()).astype(np.float32)
    )
    config = FactoryConfig.from_dict({"home": str(tmp_path / "home")}, base_dir=tmp_path)
    accepted, rejects = filter_synthetic(result, corpus, embeddings, config, emb)
    SYNTHETIC_SAMPLES.validate(accepted)
    SYNTHETIC_REJECTS.validate(rejects)
    assert accepted["sample_id"].to_list() == ["s1"]
    assert rejects["sample_id"].to_list() == ["s2", "s3", "s9"]
    reasons = dict(zip(rejects["sample_id"], rejects["reason"], strict=True))
    assert reasons["s9"] == "not attempted: token budget reached"
    assert reasons["s2"].startswith("corpus_copy")
    assert reasons["s3"].startswith("language")  # the corpus is English
