"""The Dagster asset checks: one `dg.materialize` with real frames and the real embedder."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from assets.resources import FactoryResource
from checks.dagster_checks import build_sample_checks, check_result
from checks.gate import check_samples
from checks.suites import run_family
from factory.config import ChecksConfig, FactoryConfig
from factory.errors import SchemaError
from factory.schemas import DOCUMENT_EMBEDDINGS, vector_dtype
from tests.checks.conftest import Banking, MakeSamples


def _embeddings(banking: Banking, fingerprint: str | None = None) -> pl.DataFrame:
    vectors = banking.corpus_vectors.astype(np.float32)
    return DOCUMENT_EMBEDDINGS.validate(
        pl.DataFrame(
            {
                "doc_id": banking.corpus["doc_id"],
                "split": banking.corpus["split"],
                "vector": pl.Series(vectors, dtype=vector_dtype(vectors.shape[1])),
                "model_fingerprint": [fingerprint or banking.fingerprint] * banking.corpus.height,
            }
        )
    )


def _stand_ins(
    samples: pl.DataFrame, embeddings: pl.DataFrame, documents: pl.DataFrame
) -> list[dg.AssetsDefinition]:
    @dg.asset
    def synthetic_samples() -> pl.DataFrame:
        return samples

    @dg.asset
    def document_embeddings() -> pl.DataFrame:
        return embeddings

    @dg.asset
    def corpus_documents() -> pl.DataFrame:
        return documents

    return [synthetic_samples, document_embeddings, corpus_documents]


def test_build_sample_checks_targets_the_samples_asset() -> None:
    defs = build_sample_checks()
    keys = sorted(key for d in defs for key in d.check_keys)
    assert [k.name for k in keys] == ["bias", "coherence", "diversity"]
    assert {k.asset_key for k in keys} == {dg.AssetKey("synthetic_samples")}
    other = build_sample_checks("staged_samples")
    assert {k.asset_key for d in other for k in d.check_keys} == {dg.AssetKey("staged_samples")}


def test_materialize_records_check_evaluations(tmp_path: Path, banking: Banking) -> None:
    config_path = tmp_path / "factory.yaml"
    config_path.write_text(yaml.safe_dump({"home": "home", "embedding": {"device": "cpu"}}))
    truncated = [t[:6] if i % 7 == 0 else t for i, t in enumerate(banking.samples["text"])]
    samples = banking.samples.with_columns(pl.Series("text", truncated))  # 29 of 200 too short
    result = dg.materialize(
        [*_stand_ins(samples, _embeddings(banking), banking.corpus), *build_sample_checks()],
        resources={
            "factory": FactoryResource(config_path=str(config_path)),
            "io_manager": dg.mem_io_manager,
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success  # WARN checks never fail the run
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert sorted(evaluations) == ["bias", "coherence", "diversity"]
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in evaluations.values())
    assert all(e.asset_key == dg.AssetKey("synthetic_samples") for e in evaluations.values())
    meta = {name: {k: v.value for k, v in e.metadata.items()} for name, e in evaluations.items()}

    coherence = meta["coherence"]
    assert not evaluations["coherence"].passed
    assert coherence["length_ok_share"] == pytest.approx(1 - 29 / 200)
    assert coherence["observed"]["length_ok_share"] == coherence["length_ok_share"]
    assert coherence["threshold"]["min_chars"] == 12
    assert "coherence failed" in coherence["details"]

    diversity = meta["diversity"]
    assert evaluations["diversity"].passed, diversity["details"]
    assert isinstance(diversity["diversity_ratio"], float)
    assert 0.5 <= diversity["diversity_ratio"] < 2.0
    assert diversity["threshold"]["max_duplicate_rate"] == 0.2
    assert diversity["samples"] == 200.0

    assert evaluations["bias"].passed, meta["bias"]["details"]
    assert "groups" in meta["bias"]["observed"]


def test_failed_outcome_becomes_a_warn_result(make_samples: MakeSamples) -> None:
    samples = make_samples(["she " + "paid the bill at the branch"] * 40)
    outcome = run_family(
        "bias",
        samples,
        np.zeros((40, 4)),
        ["he paid the bill"] * 40,
        np.zeros((0, 4)),
        ChecksConfig(),
    )
    result = check_result(outcome)
    assert result.passed is False
    assert result.severity == dg.AssetCheckSeverity.WARN
    assert result.metadata["observed"].value == outcome.observed
    assert result.metadata["threshold"].value == {"max_bias_ratio": 3.0, "bias_min_count": 5}
    assert result.metadata["judged_groups"].value == float(outcome.observed["judged_groups"])
    assert "over_represented" not in result.metadata  # lists stay inside `observed`


def test_vectors_from_another_model_are_refused(banking: Banking, minilm: object) -> None:
    with pytest.raises(SchemaError, match="rematerialize document_embeddings"):
        check_samples(
            "diversity",
            banking.samples,
            banking.corpus,
            _embeddings(banking, fingerprint="another-model"),
            FactoryConfig(),
            embedder=minilm,  # type: ignore[arg-type]
        )
