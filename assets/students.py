"""Students layer: `student_checkpoint` (fine-tune on train + the synthetic rows of rounds 1..k)
and `student_evaluation` (the student and its base on validation and test, per example)."""

import json
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl

from assets.lineage_step import lineage_step
from assets.metadata import markdown_table, table_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, rounds_through
from factory.config import FactoryConfig
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import STUDENT_CHECKPOINT, STUDENT_EVALUATION
from factory.storage import write_parquet_atomic
from factory.vectors import vectors_for

__all__ = [
    "EVALUATION_CODE_VERSION",
    "STUDENTS_CODE_VERSION",
    "evaluation_documents",
    "student_checkpoint",
    "student_evaluation",
]

STUDENTS_CODE_VERSION = "students-v2"
EVALUATION_CODE_VERSION = "student-evaluation-v1"
_HEAD_BASE = "head-trained-on-train-only"


def evaluation_documents(corpus_documents: pl.DataFrame, per_split: int) -> pl.DataFrame:
    """The validation and test documents evaluated: the first `per_split` of each by doc_id."""
    parts = [
        corpus_documents.filter(pl.col("split") == split).sort("doc_id").head(per_split)
        for split in ("validation", "test")
    ]
    return pl.concat(parts).select("doc_id", "split", "text", "label", "answer")


def _embedded(
    config: FactoryConfig, home: Path, frame: pl.DataFrame, id_column: str
) -> tuple[np.ndarray, str]:
    """Vectors of `frame`'s texts through the project's embedding store (cached by id)."""
    from factory.embedding import EmbeddingStore, shared_embedder

    embedder = shared_embedder(config.embedding)
    if frame.height == 0:
        return np.zeros((0, embedder.dimension), dtype=np.float32), embedder.fingerprint
    store = EmbeddingStore(home / "lancedb")
    vectors, _ = store.embed_texts(frame[id_column].to_list(), frame["text"].to_list(), embedder)
    return np.asarray(vectors, dtype=np.float32), embedder.fingerprint


def _training_rows(
    factory: FactoryResource, round_number: int, synthetic_samples: pl.DataFrame
) -> pl.DataFrame:
    """The accepted synthetic rows of rounds 1..k, once each, in sample_id order."""
    rows = rounds_through(factory.home, "synthetic_samples", round_number, synthetic_samples)
    return rows.unique("sample_id", keep="first").sort("sample_id")


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
    config = factory.config
    student = config.student
    kind = config.task.kind
    round_number = current_round(context)
    inputs = ["corpus_documents", "document_embeddings", "synthetic_samples"]
    with lineage_step(
        context, factory, "student_checkpoint", STUDENTS_CODE_VERSION, inputs
    ) as step:
        train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
        synthetic = _training_rows(factory, round_number, synthetic_samples)
        hyper = student.model_dump(mode="json")

        def progress(done: int, total: int) -> None:
            if done == total or done % 10 == 0:
                context.log.info(f"student (round {round_number}): step {done}/{total}")

        if student.backend == "classifier":
            summary, base_fp, data_version = _train_head(
                factory, document_embeddings, train, synthetic, progress
            )
        else:
            summary, base_fp, data_version = _train_llm(
                factory, corpus_documents, train, synthetic, kind, progress
            )
        frame = pl.DataFrame(
            {
                "checkpoint_path": [summary["checkpoint_path"]],
                "checkpoint_hash": [summary["checkpoint_hash"]],
                "backend": [student.backend],
                "round": [round_number],
                "base_model_fingerprint": [base_fp],
                "training_data_version": [data_version],
                "hyperparameters": [json.dumps(summary["hyperparameters"], sort_keys=True)],
                "train_rows": [train.height],
                "synthetic_rows": [synthetic.height],
                "steps": [summary["steps"]],
                "perplexity_before": [summary["perplexity_before"]],
                "perplexity_after": [summary["perplexity_after"]],
            },
            schema=STUDENT_CHECKPOINT.empty().schema,
        )
        version = fingerprint(summary["run_key"], summary["checkpoint_hash"])
        step.params = {**hyper, "round": round_number}
        step.models = {"student_base": base_fp, "checkpoint": summary["checkpoint_hash"]}
        step.output("student_checkpoint", frame, STUDENT_CHECKPOINT, version)
    before, after = summary["perplexity_before"], summary["perplexity_after"]
    metadata: dict[str, Any] = {
        **table_metadata(frame, STUDENT_CHECKPOINT),
        "backend": student.backend,
        "round": round_number,
        "steps": summary["steps"],
        "checkpoint": dg.MetadataValue.path(summary["checkpoint_path"]),
        "train_rows": train.height,
        "synthetic_rows": synthetic.height,
        "reused": bool(summary.get("reused", False)),
    }
    if before is not None and after is not None:
        context.log.info(f"validation perplexity {before:.2f} -> {after:.2f}")
        metadata |= {
            "perplexity_before": round(before, 3),
            "perplexity_after": round(after, 3),
            "perplexity_change": round(after - before, 3),
        }
    return dg.Output(frame, data_version=dg.DataVersion(version), metadata=metadata)


def _reuse_or_train(context_log: Any, out_dir: Path, train: Any, run_key: str) -> dict[str, Any]:
    """The summary of the checkpoint in `out_dir` when it exists, else `train()`'s, saved."""
    summary_path = out_dir / "summary.json"
    if summary_path.exists():
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        context_log(f"inputs unchanged: reusing the checkpoint in {out_dir}")
        return {**summary, "reused": True}
    result = train()
    summary = {
        "run_key": run_key,
        "checkpoint_path": str(result.checkpoint_path),
        "checkpoint_hash": result.checkpoint_hash,
        "steps": result.steps,
        "perplexity_before": result.perplexity_before,
        "perplexity_after": result.perplexity_after,
        "hyperparameters": result.hyperparameters,
        "seconds": result.seconds,
    }
    summary_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    return summary


def _train_llm(
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    train: pl.DataFrame,
    synthetic: pl.DataFrame,
    kind: str,
    progress: Any,
) -> tuple[dict[str, Any], str, str]:
    from factory.training import fit_student, held_out_texts

    config = factory.config
    base = _base_model(factory)
    validation = corpus_documents.filter(pl.col("split") == "validation").sort("doc_id")
    eval_texts = held_out_texts(validation, kind, config.student)
    data_version = fingerprint(
        kind, train["doc_id"].to_list(), synthetic["sample_id"].to_list(), eval_texts
    )
    hyper = config.student.model_dump(mode="json")
    run_key = fingerprint(STUDENTS_CODE_VERSION, base.fingerprint, data_version, hyper)
    out_dir = factory.home / "students" / run_key[:16]

    def train_now() -> Any:
        rows = pl.concat([_task_rows(train, kind), _task_rows(synthetic, kind)])
        return fit_student(
            rows, kind, config.student, out_dir,
            eval_rows=validation, base=base, progress=progress,
        )  # fmt: skip

    summary = _reuse_or_train(_log, out_dir, train_now, run_key)
    return summary, base.fingerprint, data_version


def _train_head(
    factory: FactoryResource,
    document_embeddings: pl.DataFrame,
    train: pl.DataFrame,
    synthetic: pl.DataFrame,
    progress: Any,
) -> tuple[dict[str, Any], str, str]:
    from factory.training import check_student_task, fit_student

    config = factory.config
    kind = config.task.kind
    check_student_task(config.student, kind)  # before embedding anything
    vectors, embedder_fp = _head_vectors(factory, document_embeddings, train, synthetic)
    labels = train["label"].to_list() + synthetic["label"].to_list()
    data_version = fingerprint(
        "classifier", train["doc_id"].to_list(), synthetic["sample_id"].to_list(), labels
    )
    hyper = config.student.model_dump(mode="json")
    run_key = fingerprint(STUDENTS_CODE_VERSION, embedder_fp, data_version, hyper)
    out_dir = factory.home / "students" / run_key[:16]

    def train_now() -> Any:
        rows = pl.concat([_task_rows(train, kind), _task_rows(synthetic, kind)])
        return fit_student(rows, kind, config.student, out_dir, vectors=vectors, progress=progress)

    summary = _reuse_or_train(_log, out_dir, train_now, run_key)
    return summary, embedder_fp, data_version


def _task_rows(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The text and the target column (label or answer) that task `kind` trains on."""
    target = {"classification": ["label"], "qa": ["answer"]}.get(kind, [])
    return frame.select(
        pl.col("text").cast(pl.String), *(pl.col(c).cast(pl.String) for c in target)
    )


def _head_vectors(
    factory: FactoryResource,
    document_embeddings: pl.DataFrame,
    train: pl.DataFrame,
    synthetic: pl.DataFrame,
) -> tuple[np.ndarray, str]:
    train_vectors = vectors_for(document_embeddings, train["doc_id"].to_list())
    synthetic_vectors, embedder_fp = _embedded(factory.config, factory.home, synthetic, "sample_id")
    return np.concatenate([train_vectors, synthetic_vectors]), embedder_fp


def _log(message: str) -> None:
    dg.get_dagster_logger().info(message)


def _base_model(factory: FactoryResource) -> Any:
    from factory.training import prepare_base_model

    source = factory.config.student.base_model
    return prepare_base_model(
        factory.config.resolve(source) if source else None, factory.home / "models"
    )


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
    from factory.training import summarize

    config = factory.config
    round_number = current_round(context)
    inputs = ["corpus_documents", "document_embeddings", "student_checkpoint"]
    with lineage_step(
        context, factory, "student_evaluation", EVALUATION_CODE_VERSION, inputs
    ) as step:
        documents = evaluation_documents(corpus_documents, config.student.eval_documents)
        checkpoint = student_checkpoint.row(0, named=True)
        train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
        if checkpoint["backend"] == "classifier":
            student, base = _evaluate_heads(
                factory, documents, train, document_embeddings, checkpoint
            )
        else:
            student, base = _evaluate_llms(factory, documents, train, checkpoint)
        frame = pl.concat(
            [
                student.with_columns(model=pl.lit("student")),
                base.with_columns(model=pl.lit("base")),
            ],
            how="diagonal_relaxed",
        ).select([c.name for c in STUDENT_EVALUATION.columns])
        frame = STUDENT_EVALUATION.validate(frame)
        version = fingerprint(
            EVALUATION_CODE_VERSION,
            checkpoint["checkpoint_hash"],
            frame_fingerprint(frame, ["model", "split", "doc_id", "prediction", "correct"]),
        )
        step.params = {"eval_documents": config.student.eval_documents, "round": round_number}
        step.models = {"checkpoint": checkpoint["checkpoint_hash"]}
        step.output("student_evaluation", frame, STUDENT_EVALUATION, version)
    scores = _score_table(frame, summarize)
    failed = frame.filter(
        (pl.col("model") == "student") & (pl.col("split") == "validation") & ~pl.col("correct")
    ).height
    context.log.info(f"round {round_number} evaluation:\n{markdown_table(scores, scores.columns)}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(
                frame, STUDENT_EVALUATION, ["model", "split", "prediction", "correct"]
            ),
            "scores": dg.MetadataValue.md(markdown_table(scores, scores.columns)),
            "validation_failures": failed,
            "round": round_number,
        },
    )


def _score_table(frame: pl.DataFrame, summarize: Any) -> pl.DataFrame:
    """Accuracy, exact match and perplexity per (model, split)."""
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


def _evaluate_llms(
    factory: FactoryResource,
    documents: pl.DataFrame,
    train: pl.DataFrame,
    checkpoint: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    from factory.training import evaluate_causal_lm, load_student

    config = factory.config
    kind = config.task.kind
    labels = _labels(config, train)
    base = _base_model(factory)

    def evaluate(path: Path | None) -> pl.DataFrame:
        model, tokenizer = load_student(base, path)
        return evaluate_causal_lm(
            model, tokenizer, documents, kind, labels, config.student.max_length
        )

    student = evaluate(Path(checkpoint["checkpoint_path"]))
    documents_version = frame_fingerprint(documents, ["doc_id", "text"])
    key = fingerprint(
        EVALUATION_CODE_VERSION, "base", base.fingerprint, kind, labels, documents_version,
        config.student.max_length,
    )  # fmt: skip
    return student, _cached(factory.home / "students" / f"base-{key[:16]}.parquet", evaluate)


def _evaluate_heads(
    factory: FactoryResource,
    documents: pl.DataFrame,
    corpus_train: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    checkpoint: dict[str, Any],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The head of this round, and as its base the same head trained on the train rows only."""
    from factory.training import evaluate_head, load_head, train_head

    config = factory.config
    vectors = vectors_for(document_embeddings, documents["doc_id"].to_list())
    student = evaluate_head(load_head(Path(checkpoint["checkpoint_path"])), vectors, documents)
    train_vectors = vectors_for(document_embeddings, corpus_train["doc_id"].to_list())
    labels = corpus_train["label"].to_list()
    key = fingerprint(
        EVALUATION_CODE_VERSION, _HEAD_BASE, corpus_train["doc_id"].to_list(), labels,
        config.student.model_dump(mode="json"),
    )  # fmt: skip
    folder = factory.home / "students" / f"base-head-{key[:16]}"

    def evaluate(_: Path | None) -> pl.DataFrame:
        if not folder.is_dir():
            train_head(train_vectors, labels, config.student, folder)
        return evaluate_head(load_head(folder), vectors, documents)

    base_key = fingerprint(key, frame_fingerprint(documents, ["doc_id", "text"]))
    return student, _cached(factory.home / "students" / f"base-{base_key[:16]}.parquet", evaluate)


def _cached(path: Path, evaluate: Any) -> pl.DataFrame:
    """The base model's results, computed once per (base, documents) and kept beside students."""
    if path.exists():
        return pl.read_parquet(path)
    frame = evaluate(None)
    write_parquet_atomic(frame, path)
    return frame


def _labels(config: FactoryConfig, train: pl.DataFrame) -> list[str]:
    """The label set for constrained decoding: every train label (classification only)."""
    if config.task.kind != "classification":
        return []
    return sorted({str(x) for x in train["label"].drop_nulls().to_list()})
