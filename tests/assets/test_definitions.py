from __future__ import annotations

import dagster as dg
import yaml

from assets.definitions import defs
from tests.fixtures.paths import REPO


def test_definitions_load_and_workspace_points_at_them() -> None:
    workspace = yaml.safe_load((REPO / "workspace.yaml").read_text())
    assert workspace["load_from"][0]["python_module"]["module_name"] == "assets.definitions"
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert {"corpus_documents", "corpus_quarantine", "document_embeddings"} <= keys


def test_every_asset_has_code_version_group_and_description() -> None:
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.code_version, key
        assert node.group_name not in {None, "default"}, key
        assert node.description, key
        assert node.owners == ["team:factory"], key
        assert node.tags["factory/layer"] == node.group_name, key


def test_definitions_validate() -> None:
    dg.Definitions.validate_loadable(defs)


def test_shards_partition_the_corpus_and_embeddings_and_rounds_the_rest() -> None:
    from assets.rounds import ROUNDS
    from assets.shards import SHARDS

    graph = defs.resolve_asset_graph()
    by_shard = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).partitions_def == SHARDS
    }
    assert by_shard == {"shard_documents", "shard_quarantine", "shard_embeddings"}
    assert {graph.get(dg.AssetKey(k)).group_name for k in by_shard} == {"corpus", "embeddings"}
    ingest = defs.resolve_job_def("ingest").asset_layer.selected_asset_keys
    assert {k.to_user_string() for k in ingest} == by_shard
    partitioned = {
        k.to_user_string()
        for k in graph.get_all_asset_keys()
        if graph.get(k).partitions_def and k.to_user_string() not in by_shard
    }
    assert partitioned == {
        "coverage_gaps", "synthesis_plan", "synthetic_samples", "synthetic_rejects",
        "student_checkpoint", "student_evaluation", "dataset_release",
    }  # fmt: skip
    assert all(graph.get(dg.AssetKey(k)).partitions_def == ROUNDS for k in partitioned)


def test_pipeline_job_leaves_the_experiment_to_its_own_job() -> None:
    graph = defs.resolve_asset_graph()
    experiment = dg.AssetKey("utility_experiment")
    assert graph.get(experiment).group_name == "experiments"
    pipeline = defs.resolve_job_def("factory").asset_layer.selected_asset_keys
    assert experiment not in pipeline
    assert {dg.AssetKey("corpus_documents"), dg.AssetKey("dataset_release")} <= pipeline
    experiment_job = defs.resolve_job_def("utility_experiment_job").asset_layer.selected_asset_keys
    assert experiment_job == {experiment}
