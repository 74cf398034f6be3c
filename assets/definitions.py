"""The one `dg.Definitions` of the project; `workspace.yaml` and the CLI load it."""

import warnings

import dagster as dg

from assets.corpus import corpus
from assets.embeddings import document_embeddings
from assets.gaps import coverage_gaps
from assets.io_managers import LanceIOManager, ParquetIOManager
from assets.lineage_step import quality_recorder
from assets.map import semantic_map_and_clusters
from assets.release import dataset_release
from assets.resources import FactoryResource, TeacherResource
from assets.rounds import ROUNDS
from assets.students import student_checkpoint, student_evaluation
from assets.synthesis import synthesis_plan, synthetic_samples_and_rejects
from checks.dagster_checks import build_quality_checks

__all__ = ["ALL_ASSETS", "ALL_CHECKS", "build_resources", "defs"]

ALL_ASSETS = [
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
    }


defs = dg.Definitions(assets=ALL_ASSETS, asset_checks=ALL_CHECKS, resources=build_resources())
