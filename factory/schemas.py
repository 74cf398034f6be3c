"""Declared table schemas: name, type and meaning of every column, checked when written.

Example:
    >>> CORPUS_DOCUMENTS.column_names[:2]
    ['doc_id', 'text']
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from factory.errors import SchemaError

__all__ = [
    "CLUSTERS",
    "CORPUS_DOCUMENTS",
    "CORPUS_QUARANTINE",
    "COVERAGE_GAPS",
    "DATASET_RELEASE",
    "DOCUMENT_EMBEDDINGS",
    "SEMANTIC_MAP",
    "STUDENT_CHECKPOINT",
    "STUDENT_EVALUATION",
    "SYNTHESIS_PLAN",
    "SYNTHETIC_REJECTS",
    "SYNTHETIC_SAMPLES",
    "Column",
    "TableSchema",
    "vector_dtype",
]


@dataclass(frozen=True)
class Column:
    """One column: its name, polars type, meaning and whether nulls are allowed."""

    name: str
    dtype: pl.DataType | type[pl.DataType]
    meaning: str
    nullable: bool = False


@dataclass(frozen=True)
class TableSchema:
    """An ordered set of columns with a name."""

    name: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def empty(self) -> pl.DataFrame:
        """A zero-row frame with this schema (vector columns need `vector_dtype`)."""
        return pl.DataFrame(schema={c.name: c.dtype for c in self.columns})

    def validate(self, df: pl.DataFrame) -> pl.DataFrame:
        """`df` with columns in declared order; `SchemaError` naming every mismatch otherwise."""
        problems: list[str] = []
        missing = [c.name for c in self.columns if c.name not in df.columns]
        extra = [c for c in df.columns if c not in self.column_names]
        if missing:
            problems.append(f"missing columns {missing}")
        if extra:
            problems.append(f"undeclared columns {extra}")
        for col in self.columns:
            if col.name not in df.columns:
                continue
            actual = df.schema[col.name]
            if not _dtype_matches(actual, col.dtype):
                problems.append(f"column {col.name!r} has type {actual}, declared {col.dtype}")
            elif not col.nullable and df[col.name].null_count():
                problems.append(f"column {col.name!r} has {df[col.name].null_count()} nulls")
        if problems:
            msg = f"table {self.name!r} does not match its schema: " + "; ".join(problems)
            raise SchemaError(msg)
        return df.select(self.column_names)

    def describe(self) -> dict[str, str]:
        """Column name to "type: meaning", for metadata and docs."""
        return {c.name: f"{_dtype_name(c.dtype)}: {c.meaning}" for c in self.columns}


def vector_dtype(dim: int) -> pl.Array:
    """Fixed-size float32 vector type of width `dim`."""
    return pl.Array(pl.Float32, dim)


def _dtype_name(dtype: pl.DataType | type[pl.DataType]) -> str:
    return str(dtype)


def _dtype_matches(actual: pl.DataType, declared: pl.DataType | type[pl.DataType]) -> bool:
    if declared is pl.Array or (isinstance(declared, pl.Array) and declared.size == 0):
        return isinstance(actual, pl.Array) and actual.inner == pl.Float32
    if isinstance(declared, type):
        return actual.base_type() == declared
    if isinstance(declared, pl.Datetime):
        return isinstance(actual, pl.Datetime) and actual.time_unit == declared.time_unit
    return bool(actual == declared)


_TIME = pl.Datetime("us", "UTC")

CORPUS_DOCUMENTS = TableSchema(
    "corpus_documents",
    (
        Column("doc_id", pl.String, "SHA-256 of the normalized text"),
        Column("text", pl.String, "normalized document text (NFC, collapsed whitespace)"),
        Column("label", pl.String, "class label (classification tasks)", nullable=True),
        Column("answer", pl.String, "reference answer (qa tasks)", nullable=True),
        Column("split", pl.String, "train, validation or test"),
        Column("source_id", pl.String, "id of the configured source"),
        Column("source_uri", pl.String, "file, line or object the row came from"),
        Column("license", pl.String, "SPDX id of the source's license, or `unknown`"),
        Column("ingested_at", _TIME, "when the row was first ingested (not part of versions)"),
    ),
)

CORPUS_QUARANTINE = TableSchema(
    "corpus_quarantine",
    (
        Column("source_id", pl.String, "id of the configured source"),
        Column("source_uri", pl.String, "file the rejected row came from"),
        Column("line", pl.Int64, "1-based line (or row) number in the file", nullable=True),
        Column("reason", pl.String, "why the row was rejected"),
        Column("raw", pl.String, "the row as read, at most 10,000 characters"),
        Column("doc_id", pl.String, "content hash when the text could be read", nullable=True),
    ),
)

DOCUMENT_EMBEDDINGS = TableSchema(
    "document_embeddings",
    (
        Column("doc_id", pl.String, "the embedded document"),
        Column("split", pl.String, "train, validation or test"),
        Column("vector", pl.Array, "L2-normalized float32 embedding"),
        Column("model_fingerprint", pl.String, "fingerprint of the embedding model"),
    ),
)

SEMANTIC_MAP = TableSchema(
    "semantic_map",
    (
        Column("doc_id", pl.String, "the mapped document"),
        Column("split", pl.String, "train, validation or test"),
        Column("x", pl.Float32, "2-D display projection, first axis"),
        Column("y", pl.Float32, "2-D display projection, second axis"),
        Column("cluster_id", pl.Int64, "HDBSCAN cluster; -1 is noise"),
        Column("membership", pl.Float32, "HDBSCAN membership strength in [0, 1]"),
        Column("density", pl.Float32, "mean cosine similarity to the k nearest train documents"),
        Column(
            "neighbour_rows",
            pl.List(pl.Int64),
            "rows (in doc_id order) of the nearest train documents, nearest first",
        ),
        Column("neighbour_sims", pl.List(pl.Float32), "cosine to each of those neighbours"),
    ),
)

CLUSTERS = TableSchema(
    "clusters",
    (
        Column("cluster_id", pl.Int64, "HDBSCAN cluster id (noise is not listed)"),
        Column("size", pl.Int64, "documents in the cluster (all splits)"),
        Column("train_size", pl.Int64, "train documents in the cluster"),
        Column("centroid", pl.Array, "unit-length mean embedding of the train members"),
        Column("keywords", pl.List(pl.String), "top class-based TF-IDF terms of the train members"),
        Column("label", pl.String, "short readable label built from the keywords"),
    ),
)

COVERAGE_GAPS = TableSchema(
    "coverage_gaps",
    (
        Column("gap_id", pl.String, "stable id: hash of kind, anchors and evidence"),
        Column("rank", pl.Int64, "1 = most important"),
        Column(
            "kind", pl.String, "sparse_region, bridge, coverage, under_represented, student_failure"
        ),
        Column("score", pl.Float64, "kind weight * shortfall, in [0, 1]; ranks the gaps"),
        Column("shortfall", pl.Float64, "1 - observed / expected, clipped to [0, 1]"),
        Column("observed", pl.Float64, "train documents (correct answers) found at the gap"),
        Column("expected", pl.Float64, "train documents (correct answers) expected there"),
        Column("target", pl.Array, "unit-length target vector in embedding space"),
        Column("anchor_doc_ids", pl.List(pl.String), "train documents nearest the target"),
        Column(
            "evidence_doc_ids",
            pl.List(pl.String),
            "reference or failed validation documents behind the gap (never train anchors)",
        ),
        Column(
            "cluster_id",
            pl.Int64,
            "cluster the gap lies in or next to; -1 when none",
            nullable=True,
        ),
        Column("budget", pl.Int64, "synthetic samples requested for this gap"),
        Column("rationale", pl.String, "why this is a gap, in words"),
    ),
)

SYNTHESIS_PLAN = TableSchema(
    "synthesis_plan",
    (
        Column("target_id", pl.String, "hash of gap, method and target index"),
        Column("plan_order", pl.Int64, "position in the curriculum (0 runs first)"),
        Column("curriculum_stage", pl.Int64, "0 core, 1 periphery, 2 bridge, 3 adversarial"),
        Column("stage_name", pl.String, "core, periphery, bridge or adversarial"),
        Column("gap_id", pl.String, "the gap the target serves"),
        Column("gap_kind", pl.String, "kind of that gap"),
        Column("gap_rank", pl.Int64, "rank of that gap"),
        Column("method", pl.String, "interpolate, perturb or adversarial"),
        Column("target_index", pl.Int64, "index of the target within its gap"),
        Column("target", pl.Array, "unit-length target vector"),
        Column("parent_doc_ids", pl.List(pl.String), "train documents shown to the teacher"),
        Column("label", pl.String, "label taken from the parents (classification)", nullable=True),
        Column("target_cosine", pl.Float64, "cosine between the nearest parent and the target"),
        Column("origin_doc_id", pl.String, "perturb: the anchor stepped from", nullable=True),
        Column("direction", pl.List(pl.Float32), "perturb: unit steering direction", nullable=True),
        Column(
            "direction_kind",
            pl.String,
            "perturb: neighbour_cluster, attribute or a fallback",
            nullable=True,
        ),
        Column("step", pl.Float64, "perturb: step along the direction", nullable=True),
        Column("round", pl.Int64, "failure-loop round the target belongs to (1 = first)"),
        Column(
            "failure_doc_ids",
            pl.List(pl.String),
            "adversarial: the validation documents the student failed that the target answers",
        ),
    ),
)

SYNTHETIC_SAMPLES = TableSchema(
    "synthetic_samples",
    (
        Column("sample_id", pl.String, "hash of target, seed and text"),
        Column("text", pl.String, "the sample (the question for qa)"),
        Column("label", pl.String, "class label (classification)", nullable=True),
        Column("answer", pl.String, "answer (qa)", nullable=True),
        Column("gap_id", pl.String, "the gap it was made for"),
        Column("target_id", pl.String, "the synthesis_plan target it realizes"),
        Column("method", pl.String, "interpolate, perturb or adversarial"),
        Column("parent_doc_ids", pl.List(pl.String), "train documents shown to the teacher"),
        Column("target_cosine", pl.Float64, "cosine between the nearest parent and the target"),
        Column("achieved_cosine", pl.Float64, "cosine between the sample and the target"),
        Column("step", pl.Float64, "perturb: step along the direction", nullable=True),
        Column(
            "displacement",
            pl.Float64,
            "perturb: (sample - anchor) . direction reached",
            nullable=True,
        ),
        Column(
            "label_confidence",
            pl.Float64,
            "classification: probability the train-split classifier gives the label",
            nullable=True,
        ),
        Column("candidates", pl.Int64, "teacher candidates tried (all rounds)"),
        Column("rounds", pl.Int64, "teacher rounds used (1 = no correction)"),
        Column("teacher_fingerprint", pl.String, "fingerprint of the teacher model"),
        Column("prompt_template_hash", pl.String, "SHA-256 of the prompt template"),
        Column("sampling_params", pl.String, "JSON of temperature, top_p, max_tokens"),
        Column("seed", pl.Int64, "seed of the kept candidate's request"),
        Column("curriculum_stage", pl.Int64, "stage of the curriculum (0 = first)"),
        Column("round", pl.Int64, "failure-loop round that made it (1 = first)"),
        Column(
            "failure_doc_ids",
            pl.List(pl.String),
            "adversarial: the previous round's failed validation documents it answers",
        ),
        Column("run_id", pl.String, "Dagster run that made it"),
    ),
)

SYNTHETIC_REJECTS = TableSchema(
    "synthetic_rejects",
    (*SYNTHETIC_SAMPLES.columns, Column("reason", pl.String, "the row filter that rejected it")),
)

STUDENT_CHECKPOINT = TableSchema(
    "student_checkpoint",
    (
        Column("checkpoint_path", pl.String, "folder with the checkpoint (adapter, model or head)"),
        Column("checkpoint_hash", pl.String, "SHA-256 over the checkpoint files"),
        Column("backend", pl.String, "llm (causal LM, LoRA or full) or classifier (linear head)"),
        Column("round", pl.Int64, "failure-loop round (1 = first)"),
        Column(
            "base_model_fingerprint",
            pl.String,
            "hash of the base model weights (the embedder's fingerprint for a head)",
        ),
        Column("training_data_version", pl.String, "fingerprint of the training rows"),
        Column("hyperparameters", pl.String, "JSON of the training parameters"),
        Column("train_rows", pl.Int64, "real train rows used"),
        Column("synthetic_rows", pl.Int64, "synthetic rows used"),
        Column("steps", pl.Int64, "optimizer steps taken"),
        Column(
            "perplexity_before",
            pl.Float64,
            "validation perplexity of the base model (llm backend)",
            nullable=True,
        ),
        Column(
            "perplexity_after",
            pl.Float64,
            "validation perplexity after fine-tuning (llm backend)",
            nullable=True,
        ),
    ),
)

STUDENT_EVALUATION = TableSchema(
    "student_evaluation",
    (
        Column("model", pl.String, "student (the trained checkpoint) or base (its starting point)"),
        Column("split", pl.String, "validation or test"),
        Column("doc_id", pl.String, "the evaluated corpus document"),
        Column("task_kind", pl.String, "text, classification or qa (which metric `correct` feeds)"),
        Column("reference", pl.String, "the true label or answer", nullable=True),
        Column(
            "prediction",
            pl.String,
            "the predicted label (constrained decoding or the head) or generated answer",
            nullable=True,
        ),
        Column(
            "correct",
            pl.Boolean,
            "prediction matches reference (label equality; normalized exact match for qa); "
            "null for task kind text",
            nullable=True,
        ),
        Column(
            "nll",
            pl.Float64,
            "summed next-token NLL of the example's training text (causal LM only)",
            nullable=True,
        ),
        Column("tokens", pl.Int64, "tokens scored for nll (causal LM only)", nullable=True),
    ),
)

DATASET_RELEASE = TableSchema(
    "dataset_release",
    (
        Column("release_path", pl.String, "folder of the release"),
        Column("report_path", pl.String, "the HTML report inside it"),
        Column("synthetic_rows", pl.Int64, "synthetic rows released"),
        Column("train_rows", pl.Int64, "real train rows released"),
        Column("checks_passed", pl.Int64, "gate metrics that passed"),
        Column("checks_failed", pl.Int64, "gate metrics that failed"),
    ),
)
