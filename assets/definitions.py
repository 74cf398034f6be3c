"""The one `dg.Definitions` of the project; `workspace.yaml` and the CLI load it."""

import warnings

import dagster as dg

from assets.corpus import corpus
from assets.embeddings import document_embeddings
from assets.executors import executor_for
from assets.experiments import ExperimentResource, utility_experiment
from assets.gaps import coverage_gaps
from assets.io_managers import LanceIOManager, ParquetIOManager
from assets.lineage_step import quality_recorder
from assets.map import semantic_map_and_clusters
from assets.quality_checks import build_quality_checks
from assets.release import dataset_release
from assets.resources import FactoryResource, TeacherResource
from assets.rounds import ROUNDS
from assets.shards import INGEST_JOB, SHARD_ASSETS, shard_sensor
from assets.students import student_checkpoint, student_evaluation
from assets.synthesis import synthesis_plan, synthetic_samples_and_rejects

__all__ = [
    "ALL_ASSETS",
    "ALL_CHECKS",
    "EXPERIMENT_ASSETS",
    "OWNERS",
    "PIPELINE_JOB",
    "SHARD_ASSETS",
    "UTILITY_EXPERIMENT_JOB",
    "build_resources",
    "defs",
]

OWNERS = ["team:factory"]
"""Who answers for every asset (shown in the UI's asset pages)."""


def _owned(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """`assets` with the project's owners and a `factory/layer` tag naming the asset's group."""
    return dg.map_asset_specs(  # type: ignore[return-value]
        lambda spec: spec.merge_attributes(
            owners=OWNERS, tags={"factory/layer": spec.group_name or "default"}
        ),
        assets,
    )


ALL_ASSETS = _owned(
    [
        corpus,
        document_embeddings,
        semantic_map_and_clusters,
        coverage_gaps,
        synthesis_plan,
        synthetic_samples_and_rejects,
        student_checkpoint,
        student_evaluation,
        dataset_release,
    ]
)
"""The pipeline, corpus to release: what `factory run` and the `factory` job materialize."""

SHARD_ASSETS = _owned(SHARD_ASSETS)
"""The corpus and embeddings of one shard: the `ingest` job, launched per shard by the sensor."""

EXPERIMENT_ASSETS = _owned([utility_experiment])
"""Long studies over the pipeline's library, launched on their own, never by the pipeline job."""

with warnings.catch_warnings():  # a partitioned check spec is a Dagster preview feature
    warnings.simplefilter("ignore", dg.PreviewWarning)
    ALL_CHECKS = build_quality_checks(
        "synthetic_samples", record=quality_recorder(), partitions_def=ROUNDS
    )


def build_resources(config_path: str | None = None) -> dict[str, object]:
    """Resources for a given config file (None: $FACTORY_CONFIG, ./factory.yaml or defaults)."""
    factory = FactoryResource(config_path=config_path)
    return {
        "factory": factory,
        "teacher": TeacherResource(factory=factory),
        "io_manager": ParquetIOManager(factory=factory),
        "lance_io_manager": LanceIOManager(factory=factory),
        "experiment": ExperimentResource(),
    }


PIPELINE_JOB = dg.define_asset_job(
    "factory",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    description="Corpus to release, one failure-loop round per partition; its 'Materialize all' "
    "leaves the experiments out.",
)
UTILITY_EXPERIMENT_JOB = dg.define_asset_job(
    "utility_experiment_job",
    selection=dg.AssetSelection.assets(*EXPERIMENT_ASSETS),
    description="Does gap targeting pay? Train-only vs untargeted vs targeted vs adversarial "
    "rows on banking77 (docs/experiments.md); --quick takes under 30 minutes on 2 cores.",
)

defs = dg.Definitions(
    assets=[*SHARD_ASSETS, *ALL_ASSETS, *EXPERIMENT_ASSETS],
    asset_checks=ALL_CHECKS,
    jobs=[INGEST_JOB, PIPELINE_JOB, UTILITY_EXPERIMENT_JOB],
    sensors=[shard_sensor],
    resources=build_resources(),
    executor=executor_for(FactoryResource().config),
)
