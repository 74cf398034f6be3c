"""Gaps layer: `coverage_gaps`, ranked, with anchors, targets, budgets and rationales."""

import dagster as dg
import numpy as np
import polars as pl

from assets.lineage_step import lineage_step, stored_version
from assets.metadata import markdown_table, table_metadata
from assets.metadata_images import image_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, previous_failures, round_key
from factory.config import FactoryConfig
from factory.errors import FactoryError
from factory.hashing import content_hash, fingerprint, frame_fingerprint
from factory.schemas import COVERAGE_GAPS
from factory.vectors import vectors_for

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
    from factory.gaps import find_gaps, gap_points
    from factory.gaps.inputs import read_evaluation
    from factory.mapping import plot_map, write_interactive_map

    config = factory.config
    inputs = ["semantic_map", "clusters", "corpus_documents", "document_embeddings"]
    with lineage_step(context, factory, "coverage_gaps", GAPS_CODE_VERSION, inputs) as step:
        vectors = vectors_for(document_embeddings, semantic_map["doc_id"].to_list())
        reference, reference_version = _reference(
            config, semantic_map, vectors, document_embeddings["model_fingerprint"].to_list()
        )
        labelled = corpus_documents.filter(pl.col("label").is_not_null())
        labels = dict(zip(labelled["doc_id"].to_list(), labelled["label"].to_list(), strict=True))
        round_number = current_round(context)
        gaps_config = config.gaps
        evaluation = None
        if round_number > 1:
            evaluation = previous_failures(factory.home, round_number)
            earlier = round_key(round_number - 1)
            step.read(
                f"student_evaluation[round {earlier}]",
                stored_version(context, "student_evaluation", earlier),
            )
            gaps_config = gaps_config.model_copy(update={"kinds": ["student_failure"]})
            failed = evaluation.filter(~pl.col("correct")).height
            context.log.info(
                f"round {round_number}: {failed} of {evaluation.height} validation documents "
                f"failed by round {round_number - 1}'s student"
            )
        elif config.gaps.evaluation_path:
            evaluation = read_evaluation(config.resolve(config.gaps.evaluation_path))
        found = find_gaps(
            semantic_map,
            vectors,
            clusters,
            gaps_config,
            reference=reference,
            labels=labels or None,
            evaluation=evaluation,
        )
        gaps = found.gaps
        params = {**gaps_config.model_dump(mode="json"), "round": round_number}
        step.params = params
        version = fingerprint(
            GAPS_CODE_VERSION,
            params,
            frame_fingerprint(semantic_map, ["doc_id", "cluster_id", "density"]),
            frame_fingerprint(labelled, ["doc_id", "label"]),
            reference_version,
            frame_fingerprint(evaluation, ["doc_id", "correct"]) if evaluation is not None else "",
        )
        step.output("coverage_gaps", gaps, COVERAGE_GAPS, version)
        points = gap_points(gaps, semantic_map)
        plots = factory.home / "plots"
        stem = gap_plot_stem(round_number)
        png = plot_map(
            semantic_map,
            clusters,
            points,
            plots / f"{stem}.png",
            f"round {round_number}: {gaps.height} gaps by rank (marker by kind)",
        )
        texts = dict(
            zip(
                corpus_documents["doc_id"].to_list(),
                corpus_documents["text"].to_list(),
                strict=True,
            )
        )
        html = write_interactive_map(
            semantic_map,
            clusters,
            texts,
            points,
            plots / f"{stem}.html",
            f"round {round_number}: {gaps.height} gaps",
        )
    for note in found.notes:
        context.log.info(note)
    by_kind = gaps["kind"].value_counts().sort("kind") if gaps.height else None
    context.log.info(
        f"{gaps.height} gaps ({_counts(by_kind)}), total budget "
        f"{int(gaps['budget'].sum()) if gaps.height else 0}, radius r={found.radius:.3f}"
    )
    return dg.Output(
        gaps,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(gaps, COVERAGE_GAPS),
            **image_metadata(png, "gaps on the semantic map"),
            "interactive_map": dg.MetadataValue.path(str(html)),
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
        },
    )


def gap_plot_stem(round_number: int) -> str:
    """File stem of a round's gap map under `HOME/plots` (round 1 keeps the plain name)."""
    return "coverage_gaps" if round_number == 1 else f"coverage_gaps_round{round_number}"


def _reference(
    config: FactoryConfig,
    semantic_map: pl.DataFrame,
    vectors: np.ndarray,
    model_fingerprints: list[str],
) -> tuple[object, str]:
    """The coverage reference named by `gaps.reference` and a fingerprint of its ids."""
    from factory.embedding import EmbeddingStore, shared_embedder
    from factory.gaps import Reference
    from factory.gaps.inputs import reference_texts

    choice = config.gaps.reference
    if choice == "none":
        return None, "no-reference"
    if choice == "validation":
        rows = np.nonzero(semantic_map["split"].to_numpy() == "validation")[0]
        ids = [semantic_map["doc_id"][int(i)] for i in rows]
        return Reference(ids=ids, vectors=vectors[rows]), fingerprint("validation", sorted(ids))
    texts = reference_texts(config.gaps.reference_source, config)
    ids = [content_hash(t) for t in texts]
    embedder = shared_embedder(config.embedding)
    used = sorted(set(model_fingerprints))
    if used and used != [embedder.fingerprint]:
        msg = (
            f"the corpus was embedded with {used} but the reference would be embedded with "
            f"{embedder.fingerprint!r}; rematerialize document_embeddings with this embedding"
        )
        raise FactoryError(msg)
    store = EmbeddingStore(config.home_dir / "lancedb")
    ref_vectors, _ = store.embed_texts(ids, texts, embedder)
    return Reference(ids=ids, vectors=ref_vectors), fingerprint("source", sorted(ids))


def _counts(by_kind: pl.DataFrame | None) -> str:
    if by_kind is None:
        return "none"
    return ", ".join(f"{n} {kind}" for kind, n in by_kind.iter_rows())
