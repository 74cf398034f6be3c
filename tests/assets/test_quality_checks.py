"""The Dagster checks in real `dg.materialize` runs; a failing blocking check stops downstream."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from assets.quality_checks import build_quality_checks
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, add_round
from checks.specs import DEFAULT_BLOCKING, SPECS
from factory.schemas import DOCUMENT_EMBEDDINGS, vector_dtype
from tests.fixtures.samples import Banking


def _embeddings(banking_samples: Banking) -> pl.DataFrame:
    vectors = banking_samples.corpus_vectors.astype(np.float32)
    return DOCUMENT_EMBEDDINGS.validate(
        pl.DataFrame(
            {
                "doc_id": banking_samples.corpus["doc_id"],
                "split": banking_samples.corpus["split"],
                "vector": pl.Series(vectors, dtype=vector_dtype(vectors.shape[1])),
                "model_fingerprint": [banking_samples.fingerprint] * banking_samples.corpus.height,
            }
        )
    )


def _graph(
    samples: pl.DataFrame, banking_samples: Banking, rounds: dg.PartitionsDefinition | None = None
) -> list[dg.AssetsDefinition]:
    """Stand-ins for the upstream layers, and a downstream asset that must not run on failure;
    with `rounds`, the samples, gaps and downstream asset are partitioned like the pipeline's."""
    embeddings = _embeddings(banking_samples)
    semantic = banking_samples.corpus.select("doc_id").with_columns(pl.lit(0).alias("cluster_id"))
    gaps = pl.DataFrame({"gap_id": ["gap-test"], "budget": [10]})

    @dg.asset(partitions_def=rounds)
    def synthetic_samples() -> pl.DataFrame:
        return samples

    @dg.asset
    def corpus_documents() -> pl.DataFrame:
        return banking_samples.corpus

    @dg.asset
    def document_embeddings() -> pl.DataFrame:
        return embeddings

    @dg.asset
    def semantic_map() -> pl.DataFrame:
        return semantic

    @dg.asset(partitions_def=rounds)
    def coverage_gaps() -> pl.DataFrame:
        return gaps

    @dg.asset(partitions_def=rounds)
    def student_checkpoint(synthetic_samples: pl.DataFrame) -> pl.DataFrame:
        return synthetic_samples.head(1)

    return [synthetic_samples, corpus_documents, document_embeddings, semantic_map,
            coverage_gaps, student_checkpoint]  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One project home for the module: the gate measures the train split once."""
    return tmp_path_factory.mktemp("quality-project")


def _materialize(
    project: Path, samples: pl.DataFrame, banking_samples: Banking, partitioned: bool = False
) -> dg.ExecuteInProcessResult:
    config_path = project / "factory.yaml"
    config_path.write_text(
        yaml.safe_dump({"home": "home", "embedding": {"device": "cpu"},
                        "checks": {"eval_sets": [], "fluency_rows": 50}})
    )  # fmt: skip
    rounds = ROUNDS if partitioned else None
    instance = dg.DagsterInstance.ephemeral()
    return dg.materialize(
        [*_graph(samples, banking_samples, rounds), *build_quality_checks(partitions_def=rounds)],
        resources={
            "factory": FactoryResource(config_path=str(config_path)),
            "io_manager": dg.mem_io_manager,
        },
        instance=instance,
        partition_key=add_round(instance, 1) if partitioned else None,
        raise_on_error=False,
    )


def test_one_check_spec_per_quality_check() -> None:
    (definition,) = build_quality_checks()
    keys = sorted(definition.check_keys)
    assert [k.name for k in keys] == sorted(SPECS)
    assert {k.asset_key for k in keys} == {dg.AssetKey("synthetic_samples")}
    specs = {s.name: s for s in definition.check_specs}
    assert all(s.blocking for s in specs.values())
    assert "blocks by default" in (specs["privacy"].description or "")
    assert "warns by default" in (specs["vendi"].description or "")


def test_real_rows_pass_and_downstream_runs(project: Path, banking_samples: Banking) -> None:
    result = _materialize(project, banking_samples.samples, banking_samples)
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert sorted(evaluations) == sorted(SPECS)
    for name in DEFAULT_BLOCKING:
        assert evaluations[name].passed, evaluations[name].description
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "student_checkpoint" in materialized
    meta = evaluations["fluency"].metadata
    assert isinstance(meta["observed"].value, float)
    assert isinstance(meta["threshold"].value, float)
    assert "train rate" in meta["derivation"].value
    assert meta["data_docs"].value.startswith("file://")
    docs_page = Path(meta["data_docs"].value.removeprefix("file://"))
    assert docs_page.is_file()
    assert "disfluent_share" in docs_page.read_text()
    report = Path(meta["report_json"].value)
    assert report.is_file()


@pytest.mark.parametrize("partitioned", [False, True], ids=["unpartitioned", "round-partition"])
def test_a_blocking_failure_stops_downstream_assets(
    project: Path, banking_samples: Banking, partitioned: bool
) -> None:
    texts = [
        f"{t} Call me on +44 20 7946 0958." if i % 4 == 0 else t
        for i, t in enumerate(banking_samples.samples["text"].to_list())
    ]
    samples = banking_samples.samples.with_columns(pl.Series("text", texts))
    result = _materialize(project, samples, banking_samples, partitioned)
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    privacy = evaluations["privacy"]
    assert not privacy.passed
    assert privacy.severity == dg.AssetCheckSeverity.ERROR
    assert privacy.metadata["observed"].value == pytest.approx(50.0)
    assert privacy.metadata["threshold"].value == 0.0
    materialized = {e.asset_key.path[-1] for e in result.get_asset_materialization_events()}
    assert "synthetic_samples" in materialized
    assert "student_checkpoint" not in materialized
    assert not result.success
