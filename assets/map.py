"""Map layer: `semantic_map` (projection, clusters, density per document) and `clusters`."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import polars as pl

from assets import console
from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.metadata_images import image_metadata
from assets.resources import FactoryResource
from factory.hashing import fingerprint, frame_fingerprint
from factory.mapping.pictures import MapPictures
from factory.mapping.stored import MapTables
from factory.schemas import CLUSTERS, SEMANTIC_MAP

__all__ = ["MAP_CODE_VERSION", "semantic_map_and_clusters"]

MAP_CODE_VERSION = "map-v2"


@dg.multi_asset(
    outs={
        "semantic_map": dg.AssetOut(
            description="Per document: 2-D projection, HDBSCAN cluster, membership, k-NN density.",
            code_version=MAP_CODE_VERSION,
            group_name="map",
        ),
        "clusters": dg.AssetOut(
            description="Per cluster: size, centroid, c-TF-IDF keywords and a readable label.",
            code_version=MAP_CODE_VERSION,
            group_name="map",
        ),
    },
)
def semantic_map_and_clusters(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> Iterator[dg.Output]:
    """Project, cluster and describe the embedding space."""
    from factory.mapping import write_map_pictures
    from factory.mapping.stored import map_tables
    from factory.reuse import ResultStore

    config = factory.config
    inputs = ["corpus_documents", "document_embeddings"]
    with lineage_step(context, factory, "semantic_map", MAP_CODE_VERSION, inputs) as step:

        def progress(done: int, total: int) -> None:
            context.log.info(f"map: step {done}/{total}")
            console.progress("semantic_map", done, total, "steps")

        params = config.map.model_dump(mode="json") | {"k": config.gaps.k}
        step.params = params
        base = fingerprint(
            MAP_CODE_VERSION,
            params,
            frame_fingerprint(document_embeddings, ["doc_id", "split", "model_fingerprint"]),
        )
        store = ResultStore(factory.home.cache, "map")
        result = map_tables(
            corpus_documents, document_embeddings, config.map, config.gaps.k, store, base, progress
        )
        map_version = fingerprint(base, "semantic_map")
        clusters_version = fingerprint(base, "clusters")
        step.output("semantic_map", result.semantic_map, SEMANTIC_MAP, map_version)
        step.output("clusters", result.clusters, CLUSTERS, clusters_version)
        title = f"{corpus_documents.height} documents, {result.clusters.height} clusters"
        step.summary = f"{title}, noise share {result.noise_share:.0%}"
        step.summary += " (reused)" if result.reused else ""
        pictures = write_map_pictures(
            result.semantic_map,
            result.clusters,
            corpus_documents,
            None,
            factory.home.plots,
            "semantic_map",
            title,
        )
    timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
    context.log.info(
        f"{result.clusters.height} clusters, noise share {result.noise_share:.1%}, "
        + (f"timings {timings}" if timings else "reused: inputs and settings unchanged")
    )
    yield dg.Output(
        result.semantic_map,
        "semantic_map",
        data_version=dg.DataVersion(map_version),
        metadata=_map_metadata(result, pictures),
    )
    yield dg.Output(
        result.clusters,
        "clusters",
        data_version=dg.DataVersion(clusters_version),
        metadata=_clusters_metadata(result),
    )


def _map_metadata(result: MapTables, pictures: MapPictures) -> dict[str, Any]:
    return {
        **table_metadata(result.semantic_map, SEMANTIC_MAP),
        **image_metadata(pictures.png, "semantic map"),
        "interactive_map": dg.MetadataValue.path(str(pictures.html)),
        "noise_share": round(result.noise_share, 4),
        "clusters": result.clusters.height,
        "map_params": dg.MetadataValue.json(result.params),
        "reused": result.reused,
    }


def _clusters_metadata(result: MapTables) -> dict[str, Any]:
    top = result.clusters.sort("size", descending=True)
    return {
        **table_metadata(result.clusters, CLUSTERS),
        "largest": dg.MetadataValue.md(
            markdown_table(top, ["cluster_id", "size", "label"], rows=15)
        ),
        "noise_share": round(result.noise_share, 4),
    }
