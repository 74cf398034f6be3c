"""Synthesis layer: `synthetic_samples` (accepted) and `synthetic_rejects` (with reasons)."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.resources import FactoryResource, TeacherResource
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.vectors import vectors_for

__all__ = ["SYNTHESIS_CODE_VERSION", "synthetic_samples_and_rejects"]

SYNTHESIS_CODE_VERSION = "synthesis-v1"


@dg.multi_asset(
    outs={
        "synthetic_samples": dg.AssetOut(
            description="Accepted synthetic samples aimed at the gaps, with full provenance.",
            code_version=SYNTHESIS_CODE_VERSION,
            group_name="synthesis",
        ),
        "synthetic_rejects": dg.AssetOut(
            description="Synthetic candidates that failed a row filter, with the reason.",
            code_version=SYNTHESIS_CODE_VERSION,
            group_name="synthesis",
        ),
    },
)
def synthetic_samples_and_rejects(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    teacher: TeacherResource,
    coverage_gaps: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> Iterator[dg.Output]:
    """Interpolate between each gap's anchors, realize targets with the teacher, keep the best."""
    from checks.row_filters import filter_samples
    from factory.embedding import shared_embedder
    from factory.synthesis import prompt_template_hash, synthesize_interpolations

    config = factory.config
    inputs = ["coverage_gaps", "corpus_documents", "document_embeddings"]
    step_name = "synthetic_samples"
    with lineage_step(context, factory, step_name, SYNTHESIS_CODE_VERSION, inputs) as step:
        train = corpus_documents.filter(pl.col("split") == "train")
        embedder = shared_embedder(config.embedding)
        budget = int(coverage_gaps["budget"].sum()) if coverage_gaps.height else 0

        def progress(done: int, total: int) -> None:
            context.log.info(f"synthesis: {done}/{total} targets realized")

        result = synthesize_interpolations(
            coverage_gaps,
            train.select("doc_id", "text", "label", "answer"),
            embedder,
            teacher.teacher,
            config.synthesis,
            config.teacher,
            config.task.kind,
            context.run.run_id,
            progress=progress,
        )
        sample_vectors = embedder.embed(result.samples["text"].to_list())
        corpus_vectors = vectors_for(document_embeddings, corpus_documents["doc_id"].to_list())
        accepted, filtered = filter_samples(
            result.samples,
            sample_vectors,
            corpus_vectors,
            set(corpus_documents["text"].to_list()),
            config.checks,
        )
        rejects = pl.concat([SYNTHETIC_REJECTS.validate(result.rejects), filtered]).sort(
            "sample_id"
        )
        teacher_fp = teacher.teacher.fingerprint
        step.params = {
            "synthesis": config.synthesis.model_dump(mode="json"),
            "teacher": config.teacher.model_dump(mode="json", exclude={"api_key_env"}),
            "checks": config.checks.model_dump(mode="json"),
            "prompt_template_hash": prompt_template_hash(config.task.kind),
        }
        step.models = {"teacher": teacher_fp, "embedder": embedder.fingerprint}
        content = ["sample_id", "text", "label", "answer", "gap_id"]
        samples_version = fingerprint(
            SYNTHESIS_CODE_VERSION, step.params, teacher_fp, frame_fingerprint(accepted, content)
        )
        rejects_version = fingerprint(
            SYNTHESIS_CODE_VERSION, step.params, frame_fingerprint(rejects, [*content, "reason"])
        )
        step.output("synthetic_samples", accepted, SYNTHETIC_SAMPLES, samples_version)
        step.output("synthetic_rejects", rejects, SYNTHETIC_REJECTS, rejects_version)
    stats = result.stats
    reasons = rejects["reason"].str.split(":").list.first().value_counts(sort=True)
    context.log.info(
        f"{accepted.height} accepted, {rejects.height} rejected of {budget} targets; "
        f"{stats.get('calls', 0)} teacher calls"
    )
    yield dg.Output(
        accepted,
        "synthetic_samples",
        data_version=dg.DataVersion(samples_version),
        metadata={
            **table_metadata(accepted, SYNTHETIC_SAMPLES, ["gap_id", "achieved_cosine", "text"]),
            "teacher_fingerprint": teacher_fp,
            "targets": budget,
            "accepted": accepted.height,
            "rejected": rejects.height,
            "teacher_calls": int(stats.get("calls", 0)),
            "completion_tokens": int(stats.get("completion_tokens", 0)),
            "mean_achieved_cosine": float(accepted["achieved_cosine"].mean() or 0.0),
            "stats": dg.MetadataValue.json(_plain(stats)),
        },
    )
    yield dg.Output(
        rejects,
        "synthetic_rejects",
        data_version=dg.DataVersion(rejects_version),
        metadata={
            **table_metadata(rejects, SYNTHETIC_REJECTS, ["gap_id", "reason", "text"]),
            "reasons": dg.MetadataValue.md(markdown_table(reasons, reasons.columns, rows=20)),
        },
    )


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
