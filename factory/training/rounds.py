"""The pipeline's student steps: fit the student of a round, evaluate it beside its base.

Both reuse their work while their inputs are unchanged. A checkpoint lives in
`HOME/students/<key>`, where the key hashes what it was trained from (the base or embedder
fingerprint, the train and synthetic row ids, the held-out texts and the hyper-parameters);
its `factory_training.json` is the one record of that training (`load_train_result` reads it
back). The base model's per-example results are cached per (base, documents) beside them.

Example:
    >>> fitted = fit_round_student(config, home, corpus, embeddings, synthetic)  # doctest: +SKIP
    >>> fitted.reused, fitted.result.steps  # doctest: +SKIP
    (False, 60)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from factory.config import FactoryConfig
from factory.hashing import fingerprint, frame_fingerprint
from factory.home import Home
from factory.schemas import STUDENT_EVALUATION
from factory.storage import write_parquet_atomic
from factory.training.checkpoints import Progress, TrainResult, load_train_result
from factory.vectors import vectors_for

__all__ = [
    "EVALUATION_CODE_VERSION",
    "STUDENTS_CODE_VERSION",
    "FittedStudent",
    "evaluate_round_student",
    "evaluation_documents",
    "fit_round_student",
]

STUDENTS_CODE_VERSION = "students-v2"
EVALUATION_CODE_VERSION = "student-evaluation-v1"
_HEAD_BASE = "head-trained-on-train-only"


@dataclass(frozen=True)
class FittedStudent:
    """A round's student: the training result, whether it was reused, and what it hashes."""

    result: TrainResult
    reused: bool
    run_key: str
    base_fingerprint: str
    """The base model's fingerprint (causal LM) or the embedder's (classifier head)."""
    data_version: str


def evaluation_documents(corpus_documents: pl.DataFrame, per_split: int) -> pl.DataFrame:
    """The validation and test documents evaluated: the first `per_split` of each by doc_id."""
    parts = [
        corpus_documents.filter(pl.col("split") == split).sort("doc_id").head(per_split)
        for split in ("validation", "test")
    ]
    return pl.concat(parts).select("doc_id", "split", "text", "label", "answer")


def fit_round_student(
    config: FactoryConfig,
    home: Home,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    synthetic: pl.DataFrame,
    progress: Progress | None = None,
) -> FittedStudent:
    """Fine-tune the student on the train rows + `synthetic` (a causal LM with LoRA or full
    fine-tuning, or a linear head on the embedder); reuse the checkpoint of the same inputs."""
    from factory.training.student import check_student_task, fit_student, held_out_texts

    kind, student = config.task.kind, config.student
    check_student_task(student, kind)  # before loading or embedding anything
    train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
    rows = pl.concat([_task_rows(train, kind), _task_rows(synthetic, kind)])
    hyper = student.model_dump(mode="json")
    if student.backend == "classifier":
        vectors, base_fp = _head_vectors(config, home, document_embeddings, train, synthetic)
        labels = train["label"].to_list() + synthetic["label"].to_list()
        ids = train["doc_id"].to_list(), synthetic["sample_id"].to_list()
        data_version = fingerprint("classifier", *ids, labels)

        def train_now(out_dir: Path) -> TrainResult:
            return fit_student(rows, kind, student, out_dir, vectors=vectors, progress=progress)

    else:
        base = _base_model(config, home)
        base_fp = base.fingerprint
        validation = corpus_documents.filter(pl.col("split") == "validation").sort("doc_id")
        held = held_out_texts(validation, kind, student)
        ids = train["doc_id"].to_list(), synthetic["sample_id"].to_list()
        data_version = fingerprint(kind, *ids, held)

        def train_now(out_dir: Path) -> TrainResult:
            return fit_student(
                rows, kind, student, out_dir, eval_rows=validation, base=base, progress=progress
            )

    run_key = fingerprint(STUDENTS_CODE_VERSION, base_fp, data_version, hyper)
    out_dir = home.students / run_key[:16]
    stored = load_train_result(out_dir)
    result = stored if stored is not None else train_now(out_dir)
    return FittedStudent(result, stored is not None, run_key, base_fp, data_version)


def evaluate_round_student(
    config: FactoryConfig,
    home: Home,
    documents: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    checkpoint: dict[str, Any],
) -> pl.DataFrame:
    """Per-example results of the round's student (`model` = student) and its base (`model` =
    base) on `documents`: the base model for a causal LM, the head trained on the train rows
    only for a classifier."""
    train = corpus_documents.filter(pl.col("split") == "train").sort("doc_id")
    path = Path(checkpoint["checkpoint_path"])
    if checkpoint["backend"] == "classifier":
        student, base = _evaluate_heads(config, home, documents, train, document_embeddings, path)
    else:
        student, base = _evaluate_llms(
            config, home, documents, train, path, str(checkpoint["checkpoint_hash"])
        )
    frame = pl.concat(
        [student.with_columns(model=pl.lit("student")), base.with_columns(model=pl.lit("base"))],
        how="diagonal_relaxed",
    ).select([c.name for c in STUDENT_EVALUATION.columns])
    return STUDENT_EVALUATION.validate(frame)


def _task_rows(frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """The text and the target column (label or answer) that task `kind` trains on."""
    target = {"classification": ["label"], "qa": ["answer"]}.get(kind, [])
    return frame.select(
        pl.col("text").cast(pl.String), *(pl.col(c).cast(pl.String) for c in target)
    )


def _head_vectors(
    config: FactoryConfig,
    home: Home,
    document_embeddings: pl.DataFrame,
    train: pl.DataFrame,
    synthetic: pl.DataFrame,
) -> tuple[np.ndarray, str]:
    """The train rows' stored vectors, then the synthetic rows' (embedded through the store,
    cached by id), and the embedder's fingerprint."""
    from factory.embedding import EmbeddingStore, shared_embedder

    embedder = shared_embedder(config.embedding)
    train_vectors = vectors_for(document_embeddings, train["doc_id"].to_list())
    if synthetic.height == 0:
        return train_vectors, embedder.fingerprint
    store = EmbeddingStore(home.lancedb)
    ids, texts = synthetic["sample_id"].to_list(), synthetic["text"].to_list()
    vectors, _ = store.embed_texts(ids, texts, embedder)
    return np.concatenate([train_vectors, np.asarray(vectors, dtype=np.float32)]), (
        embedder.fingerprint
    )


def _base_model(config: FactoryConfig, home: Home) -> Any:
    from factory.home import shared_models
    from factory.training.base_model import prepare_base_model

    source = config.student.base_model
    return prepare_base_model(config.resolve(source) if source else None, shared_models())


def _labels(config: FactoryConfig, train: pl.DataFrame) -> list[str]:
    """The label set for constrained decoding: every train label (classification only)."""
    if config.task.kind != "classification":
        return []
    return sorted({str(x) for x in train["label"].drop_nulls().to_list()})


def _evaluate_llms(
    config: FactoryConfig,
    home: Home,
    documents: pl.DataFrame,
    train: pl.DataFrame,
    checkpoint: Path,
    checkpoint_hash: str,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The student's and the base's per-example results, each cached per (weights, documents,
    task, labels, max_length): an unchanged checkpoint is not evaluated again."""
    from factory.training.evaluate import evaluate_causal_lm
    from factory.training.loading import load_student

    kind, labels, base = config.task.kind, _labels(config, train), _base_model(config, home)

    def evaluate(path: Path | None) -> pl.DataFrame:
        model, tokenizer = load_student(base, path)
        return evaluate_causal_lm(
            model, tokenizer, documents, kind, labels, config.student.max_length
        )

    documents_version = frame_fingerprint(documents, ["doc_id", "text"])

    def key(weights: str) -> str:
        return fingerprint(
            EVALUATION_CODE_VERSION, weights, kind, labels, documents_version,
            config.student.max_length,
        )[:16]  # fmt: skip

    base_key = key(fingerprint("base", base.fingerprint))
    base_rows = _cached(home.students / f"base-{base_key}.parquet", lambda: evaluate(None))
    student_key = key(fingerprint("student", base.fingerprint, checkpoint_hash))
    student = _cached(
        home.students / f"evaluation-{student_key}.parquet", lambda: evaluate(checkpoint)
    )
    return student, base_rows


def _evaluate_heads(
    config: FactoryConfig,
    home: Home,
    documents: pl.DataFrame,
    train: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    checkpoint: Path,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The head of this round, and as its base the same head trained on the train rows only."""
    from factory.training.classifier import load_head, train_head
    from factory.training.evaluate import evaluate_head

    vectors = vectors_for(document_embeddings, documents["doc_id"].to_list())
    student = evaluate_head(load_head(checkpoint), vectors, documents)
    labels = train["label"].to_list()
    key = fingerprint(
        EVALUATION_CODE_VERSION, _HEAD_BASE, train["doc_id"].to_list(), labels,
        config.student.model_dump(mode="json"),
    )  # fmt: skip
    folder = home.students / f"base-head-{key[:16]}"

    def evaluate() -> pl.DataFrame:
        if not folder.is_dir():
            train_vectors = vectors_for(document_embeddings, train["doc_id"].to_list())
            train_head(train_vectors, labels, config.student, folder)
        return evaluate_head(load_head(folder), vectors, documents)

    base_key = fingerprint(key, frame_fingerprint(documents, ["doc_id", "text"]))
    return student, _cached(home.students / f"base-{base_key[:16]}.parquet", evaluate)


def _cached(path: Path, evaluate: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """A model's per-example results, computed once per key and kept beside the students."""
    if path.exists():
        return pl.read_parquet(path)
    frame = evaluate()
    write_parquet_atomic(frame, path)
    return frame
