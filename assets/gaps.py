"""Gaps layer: `coverage_gaps`, ranked, with anchors, targets, budgets and rationales."""

import dagster as dg
import polars as pl

from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.metadata_images import image_metadata
from assets.resources import FactoryResource
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import COVERAGE_GAPS
from factory.vectors import vectors_for

__all__ = ["GAPS_CODE_VERSION", "coverage_gaps"]

GAPS_CODE_VERSION = "gaps-v1"


@dg.asset(group_name="gaps", code_version=GAPS_CODE_VERSION)
def coverage_gaps(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Where the train split is thin: ranked gaps with anchors, targets and sample budgets."""
    from factory.gaps import find_sparse_gaps, gap_points
    from factory.mapping import plot_map

    config = factory.config
    inputs = ["semantic_map", "clusters", "document_embeddings"]
    with lineage_step(context, factory, "coverage_gaps", GAPS_CODE_VERSION, inputs) as step:
        vectors = vectors_for(document_embeddings, semantic_map["doc_id"].to_list())
        gaps = find_sparse_gaps(semantic_map, vectors, clusters, config.gaps)
        params = config.gaps.model_dump(mode="json")
        step.params = params
        version = fingerprint(
            GAPS_CODE_VERSION,
            params,
            frame_fingerprint(semantic_map, ["doc_id", "cluster_id", "density"]),
        )
        step.output("coverage_gaps", gaps, COVERAGE_GAPS, version)
        png = plot_map(
            semantic_map,
            clusters,
            gap_points(gaps, semantic_map),
            factory.home / "plots" / "coverage_gaps.png",
            f"{gaps.height} gaps (red, by rank)",
        )
    context.log.info(f"{gaps.height} gaps, total budget {int(gaps['budget'].sum())}")
    return dg.Output(
        gaps,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(gaps, COVERAGE_GAPS),
            **image_metadata(png, "gaps on the semantic map"),
            "top_gaps": dg.MetadataValue.md(
                markdown_table(gaps, ["rank", "kind", "score", "budget", "rationale"], rows=20)
            ),
            "total_budget": int(gaps["budget"].sum()) if gaps.height else 0,
        },
    )
