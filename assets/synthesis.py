"""Synthesis layer: `synthesis_plan` (the curriculum of targets), then `synthetic_samples`
(accepted) and `synthetic_rejects` (with reasons)."""

from collections.abc import Iterator
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

from assets import console
from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.resources import FactoryResource, TeacherResource
from assets.rounds import ROUNDS, current_round
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import SYNTHESIS_PLAN, SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES

__all__ = [
    "PLAN_CODE_VERSION",
    "SYNTHESIS_CODE_VERSION",
    "synthesis_plan",
    "synthetic_samples_and_rejects",
]

PLAN_CODE_VERSION = "synthesis-plan-v2"
SYNTHESIS_CODE_VERSION = "synthesis-v4"


@dg.asset(group_name="synthesis", code_version=PLAN_CODE_VERSION, partitions_def=ROUNDS)
def synthesis_plan(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    teacher: TeacherResource,
    coverage_gaps: pl.DataFrame,
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Every target vector with its technique, parents and curriculum stage, in run order."""
    from factory.synthesis import TrainSet, build_plan, estimate_configured_plan, plan_frame

    config = factory.config
    inputs = [
        "coverage_gaps",
        "semantic_map",
        "clusters",
        "corpus_documents",
        "document_embeddings",
    ]
    with lineage_step(context, factory, "synthesis_plan", PLAN_CODE_VERSION, inputs) as step:
        kind = config.task.kind
        train = TrainSet.from_tables(corpus_documents, document_embeddings, kind, semantic_map)
        centroids = {
            int(c): np.asarray(v, dtype=np.float32)
            for c, v in zip(clusters["cluster_id"], clusters["centroid"].to_list(), strict=True)
        }
        round_number = current_round(context)
        targets = build_plan(coverage_gaps, train, config.synthesis, kind, centroids, round_number)
        plan = plan_frame(targets, train.vectors.shape[1])
        params = {**config.synthesis.model_dump(mode="json"), "round": round_number}
        step.params = params
        version = fingerprint(
            PLAN_CODE_VERSION,
            params,
            config.task.kind,
            frame_fingerprint(coverage_gaps, ["gap_id", "rank", "kind", "budget", "cluster_id"]),
            frame_fingerprint(corpus_documents, ["doc_id", "label"]),
        )
        step.output("synthesis_plan", plan, SYNTHESIS_PLAN, version)
        step.summary = f"{plan.height} targets"
        estimate = estimate_configured_plan(config, targets, train, teacher.offline_fingerprint)
    context.log.info(f"synthesis plan:\n{estimate.describe()}")
    stages = (
        plan.group_by("curriculum_stage", "stage_name", "method").len().sort("curriculum_stage")
    )
    return dg.Output(
        plan,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(plan, SYNTHESIS_PLAN, ["plan_order", "stage_name", "method", "label"]),
            "stages": dg.MetadataValue.md(markdown_table(stages, stages.columns, rows=20)),
            "estimate": dg.MetadataValue.json(estimate.as_dict()),
            "estimate_text": dg.MetadataValue.md(estimate.describe().replace("\n", "  \n")),
            "round": round_number,
        },
    )


@dg.multi_asset(
    outs={
        "synthetic_samples": dg.AssetOut(
            description="Accepted synthetic samples aimed at the gaps, with full provenance.",
            code_version=SYNTHESIS_CODE_VERSION,
            group_name="synthesis",
        ),
        "synthetic_rejects": dg.AssetOut(
            description="Targets without a sample and samples that failed a row filter, with "
            "the reason.",
            code_version=SYNTHESIS_CODE_VERSION,
            group_name="synthesis",
        ),
    },
    partitions_def=ROUNDS,
)
def synthetic_samples_and_rejects(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    teacher: TeacherResource,
    synthesis_plan: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> Iterator[dg.Output]:
    """Realize the plan with the teacher (cached, budgeted), verify, filter, keep the best."""
    from factory.embedding import shared_embedder
    from factory.synthesis import synthesis_params

    config = factory.config
    inputs = ["synthesis_plan", "corpus_documents", "document_embeddings"]
    step_name = "synthetic_samples"
    with lineage_step(context, factory, step_name, SYNTHESIS_CODE_VERSION, inputs) as step:
        embedder = shared_embedder(config.embedding)
        accepted, rejects, stats, reused = _realized(
            context, factory, teacher, embedder, synthesis_plan, corpus_documents,
            document_embeddings,
        )  # fmt: skip
        teacher_fp = str(stats["teacher_fingerprint"])
        step.params = synthesis_params(config)
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
        targets = synthesis_plan.height
        step.summary = _summary(accepted, rejects, targets, None if reused else stats)
    _log_summary(context.log, accepted, rejects, targets, stats, reused)
    yield dg.Output(
        accepted,
        "synthetic_samples",
        data_version=dg.DataVersion(samples_version),
        metadata=_samples_metadata(accepted, rejects, stats, targets, current_round(context))
        | {"reused": reused},
    )
    yield dg.Output(
        rejects,
        "synthetic_rejects",
        data_version=dg.DataVersion(rejects_version),
        metadata=_rejects_metadata(rejects),
    )


def _realized(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    teacher: TeacherResource,
    embedder: Any,
    plan: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any], bool]:
    """(accepted, rejects, stats, reused): the stored result of the same inputs, settings and
    teacher (nothing started, nothing embedded), else the plan realized by the teacher and
    filtered, then stored when the run was complete."""
    from checks.pipeline import filter_synthetic
    from factory.reuse import ResultStore
    from factory.synthesis import TrainSet, synthesize_cached, targets_from_frame

    config = factory.config
    key = _reuse_key(config, teacher, embedder, plan, corpus_documents, document_embeddings)
    store = ResultStore(factory.home.cache, "synthesis")
    stored = store.load(key) if key is not None else None
    if stored is not None and {"samples", "rejects"} <= stored.frames.keys():
        context.log.info("inputs, settings and teacher unchanged: reusing the stored result")
        this_run = {"calls": 0, "cache_hits": 0, "prompt_tokens": 0, "completion_tokens": 0}
        stats = {**stored.facts["stats"], **this_run}
        return stored.frames["samples"], stored.frames["rejects"], stats, True
    train = TrainSet.from_tables(corpus_documents, document_embeddings, config.task.kind)
    targets = targets_from_frame(plan)

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // 20) == 0:
            context.log.info(f"synthesis: {done}/{total} targets realized")
        console.progress("synthetic_samples", done, total, "targets")

    try:
        result = synthesize_cached(
            targets,
            train,
            embedder,
            teacher.teacher if targets else None,
            config,
            context.run.run_id,
            progress=progress,
        )
    finally:
        teacher.release()
    stats: dict[str, Any] = _plain(result.stats)  # type: ignore[assignment]
    accepted, rejects = filter_synthetic(
        result, corpus_documents, document_embeddings, config, embedder
    )
    if key is not None and _complete(stats):
        store.save(key, {"samples": accepted, "rejects": rejects}, {"stats": stats})
    return accepted, rejects, stats, False


def _reuse_key(
    config: Any,
    teacher: TeacherResource,
    embedder: Any,
    plan: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
) -> str | None:
    """Everything a synthesis result depends on, as one key; None (never reused) with
    `synthesis.cache` off, or when the teacher is known only by asking its server (an API)."""
    from factory.synthesis import synthesis_params

    teacher_fp = teacher.offline_fingerprint if config.synthesis.cache else None
    if teacher_fp is None:
        return None
    corpus_columns = [c for c in ("doc_id", "split", "label", "answer") if c in corpus_documents]
    return fingerprint(
        SYNTHESIS_CODE_VERSION,
        synthesis_params(config),
        config.task.kind,
        teacher_fp,
        embedder.fingerprint,
        frame_fingerprint(plan, plan.columns),
        frame_fingerprint(corpus_documents, corpus_columns),
        frame_fingerprint(document_embeddings, ["doc_id", "model_fingerprint"]),
    )[:32]


def _complete(stats: dict[str, Any]) -> bool:
    """Whether a run's result is worth keeping: no call failed, none went over the budget, the
    run was not stopped (a later run may do better)."""
    return not (stats.get("stopped") or stats.get("failed_calls") or stats.get("over_budget_calls"))


def _log_summary(
    log: dg.DagsterLogManager,
    accepted: pl.DataFrame,
    rejects: pl.DataFrame,
    targets: int,
    stats: dict[str, Any],
    reused: bool,
) -> None:
    if stats.get("stopped") and not reused:
        log.warning(f"synthesis stopped early: {stats['stopped']}")
    log.info(_summary(accepted, rejects, targets, None if reused else stats))


def _summary(
    accepted: pl.DataFrame, rejects: pl.DataFrame, targets: int, stats: dict[str, Any] | None
) -> str:
    """The layer's figures; `stats` None for a reused result (no teacher call this run)."""
    head = f"{accepted.height} accepted, {rejects.height} rejected of {targets} targets"
    if stats is None:
        return f"{head} (reused: no teacher call)"
    return (
        f"{head}; {stats.get('calls', 0)} teacher calls, "
        f"{stats.get('cache_hits', 0)} from the cache"
    )


def _samples_metadata(
    accepted: pl.DataFrame,
    rejects: pl.DataFrame,
    stats: dict[str, Any],
    targets: int,
    round_number: int,
) -> dict[str, Any]:
    return {
        **table_metadata(accepted, SYNTHETIC_SAMPLES, ["gap_id", "achieved_cosine", "text"]),
        "teacher_fingerprint": str(stats["teacher_fingerprint"]),
        "targets": targets,
        "accepted": accepted.height,
        "rejected": rejects.height,
        "teacher_calls": int(stats.get("calls", 0)),
        "cache_hits": int(stats.get("cache_hits", 0)),
        "prompt_tokens": int(stats.get("prompt_tokens", 0)),
        "completion_tokens": int(stats.get("completion_tokens", 0)),
        "mean_achieved_cosine": float(accepted["achieved_cosine"].mean() or 0.0),
        "stopped": str(stats.get("stopped") or "no"),
        "round": round_number,
        "adversarial": int((accepted["method"] == "adversarial").sum()),
        "stats": dg.MetadataValue.json(_plain(stats)),
        "dagster/column_lineage": SYNTHETIC_COLUMN_LINEAGE,
    }


def _rejects_metadata(rejects: pl.DataFrame) -> dict[str, Any]:
    reasons = rejects["reason"].str.split(":").list.first().value_counts(sort=True)
    return {
        **table_metadata(rejects, SYNTHETIC_REJECTS, ["gap_id", "reason", "text"]),
        "reasons": dg.MetadataValue.md(markdown_table(reasons, reasons.columns, rows=20)),
    }


def _columns(asset: str, *names: str) -> list[dg.TableColumnDep]:
    return [dg.TableColumnDep(asset_key=dg.AssetKey(asset), column_name=n) for n in names]


SYNTHETIC_COLUMN_LINEAGE = dg.TableColumnLineage(
    deps_by_column={
        "text": _columns("synthesis_plan", "parent_doc_ids", "target")
        + _columns("corpus_documents", "text"),
        "label": _columns("synthesis_plan", "label") + _columns("corpus_documents", "label"),
        "answer": _columns("corpus_documents", "answer"),
        "gap_id": _columns("synthesis_plan", "gap_id"),
        "target_id": _columns("synthesis_plan", "target_id"),
        "method": _columns("synthesis_plan", "method"),
        "parent_doc_ids": _columns("synthesis_plan", "parent_doc_ids"),
        "target_cosine": _columns("synthesis_plan", "target_cosine"),
        "achieved_cosine": _columns("synthesis_plan", "target")
        + _columns("document_embeddings", "vector"),
        "curriculum_stage": _columns("synthesis_plan", "curriculum_stage"),
        "failure_doc_ids": _columns("synthesis_plan", "failure_doc_ids"),
        "round": _columns("synthesis_plan", "round"),
    }
)
"""Which upstream columns each synthetic column is made from (`dagster/column_lineage`): the
teacher writes `text` from the plan's parents and target; labels come from the parents."""


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)
