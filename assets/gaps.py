"""Gaps layer: `coverage_gaps`, ranked, with anchors, targets, budgets and rationales."""

from typing import Any

import dagster as dg
import polars as pl

from assets.lineage_step import lineage_step, stored_version
from assets.metadata import markdown_table, table_metadata
from assets.metadata_images import image_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, previous_failures, round_key
from factory.gaps.find import GapFinding
from factory.gaps.pictures import gap_plot_stem
from factory.mapping.pictures import MapPictures
from factory.schemas import COVERAGE_GAPS

__all__ = ["GAPS_CODE_VERSION", "coverage_gaps", "gap_plot_stem"]

GAPS_CODE_VERSION = "gaps-v3"


@dg.asset(group_name="gaps", code_version=GAPS_CODE_VERSION, partitions_def=ROUNDS)
def coverage_gaps(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Where the corpus is thin: ranked gaps of five kinds with anchors, targets and budgets.

    Round 1 looks for every configured kind; round k > 1 only for student-failure gaps, from the
    validation failures of round k-1's student.
    """
    from factory.gaps import find_round_gaps, write_gap_pictures

    inputs = ["semantic_map", "clusters", "corpus_documents", "document_embeddings"]
    with lineage_step(context, factory, "coverage_gaps", GAPS_CODE_VERSION, inputs) as step:
        round_number = current_round(context)
        failures = None
        if round_number > 1:
            failures = previous_failures(factory.home, round_number)
            earlier = round_key(round_number - 1)
            step.read(
                f"student_evaluation[round {earlier}]",
                stored_version(context, "student_evaluation", earlier),
            )
            context.log.info(
                f"round {round_number}: {failures.filter(~pl.col('correct')).height} of "
                f"{failures.height} validation documents failed by round {round_number - 1}'s "
                "student"
            )
        result = find_round_gaps(
            semantic_map,
            clusters,
            corpus_documents,
            document_embeddings,
            factory.config,
            code_version=GAPS_CODE_VERSION,
            round_number=round_number,
            failures=failures,
        )
        step.params = result.params
        step.output("coverage_gaps", result.gaps, COVERAGE_GAPS, result.version)
        step.summary = _summary(result.found)
        pictures = write_gap_pictures(
            result.gaps, semantic_map, clusters, corpus_documents, factory.home.plots, round_number
        )
    for note in result.found.notes:
        context.log.info(note)
    context.log.info(_summary(result.found))
    return dg.Output(
        result.gaps,
        data_version=dg.DataVersion(result.version),
        metadata=_metadata(result.found, pictures, round_number),
    )


def _by_kind(gaps: pl.DataFrame) -> pl.DataFrame | None:
    return gaps["kind"].value_counts().sort("kind") if gaps.height else None


def _summary(found: GapFinding) -> str:
    gaps = found.gaps
    by_kind = _by_kind(gaps)
    counts = "none"
    if by_kind is not None:
        counts = ", ".join(f"{n} {kind}" for kind, n in by_kind.iter_rows())
    return (
        f"{gaps.height} gaps ({counts}), total budget "
        f"{int(gaps['budget'].sum()) if gaps.height else 0}, radius r={found.radius:.3f}"
    )


def _metadata(found: GapFinding, pictures: MapPictures, round_number: int) -> dict[str, Any]:
    gaps = found.gaps
    by_kind = _by_kind(gaps)
    return {
        **table_metadata(gaps, COVERAGE_GAPS),
        **image_metadata(pictures.png, "gaps on the semantic map"),
        "interactive_map": dg.MetadataValue.path(str(pictures.html)),
        "top_gaps": dg.MetadataValue.md(
            markdown_table(
                gaps, ["rank", "kind", "score", "shortfall", "budget", "rationale"], rows=20
            )
        ),
        "gaps_by_kind": dg.MetadataValue.json(
            {kind: int(n) for kind, n in by_kind.iter_rows()} if by_kind is not None else {}
        ),
        "proposed_by_kind": dg.MetadataValue.json(found.proposed),
        "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in found.notes) or "none"),
        "radius": round(found.radius, 4),
        "round": round_number,
        "total_budget": int(gaps["budget"].sum()) if gaps.height else 0,
    }
