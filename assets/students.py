"""Students layer: `student_checkpoint` (fine-tune on train + the synthetic rows of rounds 1..k)
and `student_evaluation` (the student and its base on validation and test, per example).

The training and evaluation, with their reuse rules, are `factory.training.rounds`."""

import json
from typing import Any

import dagster as dg
import polars as pl

from assets import console
from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, rounds_through
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import STUDENT_CHECKPOINT, STUDENT_EVALUATION
from factory.training.rounds import EVALUATION_CODE_VERSION, STUDENTS_CODE_VERSION

__all__ = [
    "EVALUATION_CODE_VERSION",
    "STUDENTS_CODE_VERSION",
    "student_checkpoint",
    "student_evaluation",
]


@dg.asset(group_name="students", code_version=STUDENTS_CODE_VERSION, partitions_def=ROUNDS)
def student_checkpoint(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    synthetic_samples: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """Fine-tune the student on train + the synthetic rows of rounds 1..k (LoRA or full for a
    causal LM; a linear head on the embedder for the light classifier backend)."""
    from factory.training.rounds import fit_round_student

    config, round_number = factory.config, current_round(context)
    inputs = ["corpus_documents", "document_embeddings", "synthetic_samples"]
    with lineage_step(
        context, factory, "student_checkpoint", STUDENTS_CODE_VERSION, inputs
    ) as step:
        home = factory.home
        synthetic = rounds_through(home, "synthetic_samples", round_number, synthetic_samples)
        synthetic = synthetic.unique("sample_id", keep="first").sort("sample_id")

        def progress(done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                context.log.info(f"student (round {round_number}): step {done}/{total}")
            console.progress("student_checkpoint", done, total, "steps")

        fitted = fit_round_student(
            config, home, corpus_documents, document_embeddings, synthetic, progress
        )
        if fitted.reused:
            context.log.info(f"inputs unchanged: reusing {fitted.result.checkpoint_path}")
        result = fitted.result
        frame = pl.DataFrame(
            {
                "checkpoint_path": [str(result.checkpoint_path)],
                "checkpoint_hash": [result.checkpoint_hash],
                "backend": [config.student.backend],
                "round": [round_number],
                "base_model_fingerprint": [fitted.base_fingerprint],
                "training_data_version": [fitted.data_version],
                "hyperparameters": [json.dumps(result.hyperparameters, sort_keys=True)],
                "train_rows": [corpus_documents.filter(pl.col("split") == "train").height],
                "synthetic_rows": [synthetic.height],
                "steps": [result.steps],
                "perplexity_before": [result.perplexity_before],
                "perplexity_after": [result.perplexity_after],
            },
            schema=STUDENT_CHECKPOINT.empty().schema,
        )
        version = fingerprint(fitted.run_key, result.checkpoint_hash)
        step.params = {**config.student.model_dump(mode="json"), "round": round_number}
        step.models = {
            "student_base": fitted.base_fingerprint,
            "checkpoint": result.checkpoint_hash,
        }
        step.output("student_checkpoint", frame, STUDENT_CHECKPOINT, version)
        step.summary = _fit_summary(result.steps, result.perplexity_before, result.perplexity_after)
        if fitted.reused:
            step.summary += " (reused)"
    metadata = _fit_metadata(frame, fitted.reused)
    return dg.Output(frame, data_version=dg.DataVersion(version), metadata=metadata)


def _fit_summary(steps: int, before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return f"{steps} steps"
    return f"{steps} steps, validation perplexity {before:.2f} -> {after:.2f}"


def _fit_metadata(frame: pl.DataFrame, reused: bool) -> dict[str, Any]:
    row = frame.row(0, named=True)
    metadata: dict[str, Any] = {
        **table_metadata(frame, STUDENT_CHECKPOINT),
        **{k: row[k] for k in ("backend", "round", "steps", "train_rows", "synthetic_rows")},
        "checkpoint": dg.MetadataValue.path(row["checkpoint_path"]),
        "reused": reused,
    }
    before, after = row["perplexity_before"], row["perplexity_after"]
    if before is not None and after is not None:
        dg.get_dagster_logger().info(f"validation perplexity {before:.2f} -> {after:.2f}")
        metadata |= {
            "perplexity_before": round(before, 3),
            "perplexity_after": round(after, 3),
            "perplexity_change": round(after - before, 3),
        }
    return metadata


@dg.asset(group_name="students", code_version=EVALUATION_CODE_VERSION, partitions_def=ROUNDS)
def student_evaluation(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    student_checkpoint: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """The round's student and its base, per example, on validation (the source of the next
    round's failure gaps) and test (reported only, never a source of gaps or anchors)."""
    from factory.training.rounds import evaluate_round_student, evaluation_documents

    config, round_number = factory.config, current_round(context)
    inputs = ["corpus_documents", "document_embeddings", "student_checkpoint"]
    with lineage_step(
        context, factory, "student_evaluation", EVALUATION_CODE_VERSION, inputs
    ) as step:
        documents = evaluation_documents(corpus_documents, config.student.eval_documents)
        checkpoint = student_checkpoint.row(0, named=True)
        frame = evaluate_round_student(
            config, factory.home, documents, corpus_documents, document_embeddings, checkpoint
        )
        version = fingerprint(
            EVALUATION_CODE_VERSION,
            checkpoint["checkpoint_hash"],
            frame_fingerprint(frame, ["model", "split", "doc_id", "prediction", "correct"]),
        )
        step.params = {"eval_documents": config.student.eval_documents, "round": round_number}
        step.models = {"checkpoint": checkpoint["checkpoint_hash"]}
        step.output("student_evaluation", frame, STUDENT_EVALUATION, version)
        step.summary = _evaluation_summary(frame)
    scores = markdown_table(_score_table(frame), _SCORE_COLUMNS)
    failed = frame.filter(
        (pl.col("model") == "student") & (pl.col("split") == "validation") & ~pl.col("correct")
    ).height
    context.log.info(f"round {round_number} evaluation:\n{scores}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(
                frame, STUDENT_EVALUATION, ["model", "split", "prediction", "correct"]
            ),
            "scores": dg.MetadataValue.md(scores),
            "validation_failures": failed,
            "round": round_number,
        },
    )


def _evaluation_summary(frame: pl.DataFrame) -> str:
    """The student's and the base's score on the validation split, in one phrase."""
    from factory.training import summarize

    parts = []
    for model in ("student", "base"):
        part = frame.filter((pl.col("model") == model) & (pl.col("split") == "validation"))
        if part.height:
            summary = summarize(part)
            value = summary.accuracy if summary.accuracy is not None else summary.perplexity
            name = "accuracy" if summary.accuracy is not None else "perplexity"
            if value is not None:
                parts.append(f"{model} {name} {value:.3f}")
    return ", ".join(parts) + " on validation" if parts else f"{frame.height} rows"


_SCORE_COLUMNS = ["model", "split", "examples", "accuracy", "exact_match", "perplexity"]


def _score_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Accuracy, exact match and perplexity per (model, split)."""
    from factory.training import summarize

    rows = []
    for (model, split), part in frame.group_by("model", "split", maintain_order=True):
        summary = summarize(part)
        rows.append(
            {
                "model": model,
                "split": split,
                "examples": summary.examples,
                "accuracy": _rounded(summary.accuracy),
                "exact_match": _rounded(summary.exact_match),
                "perplexity": _rounded(summary.perplexity),
            }
        )
    return pl.DataFrame(rows).sort("model", "split", descending=[True, False])


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
