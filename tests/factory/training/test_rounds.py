"""The pipeline's student steps: the checkpoint folder is the one record of a training, so the
same inputs reuse it and different inputs train anew; the base is evaluated beside the student."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from factory.config import FactoryConfig
from factory.home import Home
from factory.training.checkpoints import load_train_result
from factory.training.classifier import train_head
from factory.training.rounds import (
    evaluate_round_student,
    evaluation_documents,
    fit_round_student,
)

LABELS = ("card", "transfer", "top_up")


def _tables(n: int = 36) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A labelled corpus in three splits and well separated 8-d vectors per label."""
    rng = np.random.default_rng(0)
    labels = [LABELS[i % 3] for i in range(n)]
    splits = ["train"] * (n - 12) + ["validation"] * 6 + ["test"] * 6
    ids = [f"d{i:03d}" for i in range(n)]
    corpus = pl.DataFrame(
        {
            "doc_id": ids,
            "text": [f"question {i} about {label}" for i, label in enumerate(labels)],
            "label": labels,
            "answer": [None] * n,
            "split": splits,
        },
        schema_overrides={"answer": pl.String},
    )
    centers = np.eye(8, dtype=np.float32)[:3] * 4
    vectors = [centers[LABELS.index(label)] + rng.normal(0, 0.1, 8) for label in labels]
    embeddings = pl.DataFrame({"doc_id": ids, "vector": [v.astype(np.float32) for v in vectors]})
    return corpus, embeddings


def _config(tmp_path: Path, **student: object) -> FactoryConfig:
    settings = {"backend": "classifier", "head_epochs": 20, **student}
    return FactoryConfig.from_dict(
        {"task": {"kind": "classification"}, "student": settings}, base_dir=tmp_path
    )


def test_a_checkpoint_reads_back_its_own_training_record(tmp_path: Path) -> None:
    corpus, embeddings = _tables()
    vectors = np.stack(embeddings["vector"].to_list())
    trained = train_head(
        vectors, corpus["label"].to_list(), _config(tmp_path).student, tmp_path / "h"
    )
    stored = load_train_result(tmp_path / "h")
    assert stored is not None
    assert (stored.checkpoint_hash, stored.steps) == (trained.checkpoint_hash, trained.steps)
    assert stored.hyperparameters == trained.hyperparameters
    assert load_train_result(tmp_path / "nothing-here") is None


def test_the_same_inputs_reuse_the_checkpoint_and_new_ones_train_anew(tmp_path: Path) -> None:
    corpus, embeddings = _tables()
    none = pl.DataFrame(schema={"sample_id": pl.String, "text": pl.String, "label": pl.String})
    home = Home(tmp_path / "home")
    config = _config(tmp_path)
    first = fit_round_student(config, home, corpus, embeddings, none)
    again = fit_round_student(config, home, corpus, embeddings, none)
    assert not first.reused
    assert again.reused
    assert again.result.checkpoint_hash == first.result.checkpoint_hash
    assert again.run_key == first.run_key
    assert first.result.checkpoint_path.parent == home.students
    other = fit_round_student(_config(tmp_path, head_epochs=21), home, corpus, embeddings, none)
    assert not other.reused
    assert other.run_key != first.run_key


def test_evaluation_puts_the_student_beside_the_train_only_head(tmp_path: Path) -> None:
    corpus, embeddings = _tables()
    none = pl.DataFrame(schema={"sample_id": pl.String, "text": pl.String, "label": pl.String})
    home, config = Home(tmp_path / "home"), _config(tmp_path)
    fitted = fit_round_student(config, home, corpus, embeddings, none)
    checkpoint = {"checkpoint_path": str(fitted.result.checkpoint_path), "backend": "classifier"}
    documents = evaluation_documents(corpus, 4)
    assert documents["split"].to_list() == ["validation"] * 4 + ["test"] * 4
    frame = evaluate_round_student(config, home, documents, corpus, embeddings, checkpoint)
    assert frame.group_by("model").len().sort("model").rows() == [("base", 8), ("student", 8)]
    student = frame.filter(pl.col("model") == "student")
    assert student["correct"].to_list() == (student["prediction"] == student["reference"]).to_list()
    assert student["correct"].mean() >= 0.6  # three labels, chance is 1/3
    assert len(list(home.students.glob("base-*.parquet"))) == 1  # the base's rows are cached
