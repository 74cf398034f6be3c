"""`factory check`: the quality suite on any dataset file, judged against any corpus file.

Samples and corpus are Parquet, JSON Lines or CSV files (UTF-8, or UTF-16/32 with a byte-order
mark) with a `text` column of strings and optionally `label` (and, for samples made by factory,
its other columns); a file that cannot be read is an error naming the file, its role (samples,
corpus, eval set) and the fix. A corpus with a `split` column is
judged by its `train` rows; otherwise all its rows are the reference. Rows that a pipeline run
would filter for personal data or evaluation-set contamination are listed; nothing is changed.

Example:
    >>> outcome = check_files(Path("samples.jsonl"), Path("corpus.csv"), FactoryConfig())
    ... # doctest: +SKIP
    >>> outcome.exit_code  # doctest: +SKIP
    0
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks.contamination import resolve_eval_set
from checks.gate import QualityGate, embedded_eval_sets
from checks.measure import SampleSet
from checks.reference import QualityReference, QualityTools
from checks.row_filters import screening_reasons
from checks.suites import SuiteReport
from factory.config import FactoryConfig
from factory.corpus.encoding import bom_codec
from factory.errors import ConfigError, SchemaError, SourceError

__all__ = ["ExternalCheck", "check_files", "read_table", "report_rows"]

_READERS = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_KINDS = {"parquet": "Parquet", "jsonl": "JSON Lines", "csv": "CSV"}


@dataclass
class ExternalCheck:
    """The suite's report on a file, and the rows a pipeline run would filter (with reasons)."""

    report: SuiteReport
    flagged: pl.DataFrame  # row, sample_id, reason
    samples: int
    corpus_rows: int

    @property
    def exit_code(self) -> int:
        """0 when the set passed, 1 when a blocking check failed, 2 when the set passed but
        rows would be filtered (personal data or a match with an evaluation set)."""
        if self.report.failed_blocking():
            return 1
        return 2 if self.flagged.height else 0

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form: the report, the flagged rows and the exit code."""
        return {
            **self.report.as_dict(),
            "samples": self.samples,
            "corpus_rows": self.corpus_rows,
            "flagged_rows": self.flagged.to_dicts(),
            "exit_code": self.exit_code,
        }


def read_table(path: Path, what: str) -> pl.DataFrame:
    """Read a Parquet, JSON Lines or CSV file that has a `text` column of strings; `what` (its
    role: samples, corpus) is named in every error."""
    path = Path(path)
    if not path.is_file():
        msg = f"{what} file {str(path)!r} does not exist; pass a Parquet, JSONL or CSV file"
        raise ConfigError(msg)
    kind = _READERS.get(path.suffix.lower())
    if kind is None:
        msg = (
            f"{what} file {str(path)!r} has suffix {path.suffix!r}; expected one of "
            f"{sorted(_READERS)}"
        )
        raise ConfigError(msg)
    try:
        frame = _read(path, kind)
    except (OSError, UnicodeError, pl.exceptions.PolarsError) as exc:
        problem = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        msg = (
            f"{what} file {str(path)!r} cannot be read as {_KINDS[kind]}: {problem}; fix the "
            f"file or save it as UTF-8 {_KINDS[kind]} with a `text` column"
        )
        raise SourceError(msg) from exc
    if "text" not in frame.columns:
        msg = f"{what} file {str(path)!r} has no `text` column; its columns are {frame.columns}"
        raise SchemaError(msg)
    if frame["text"].dtype not in (pl.String, pl.Null):
        msg = (
            f"{what} file {str(path)!r}: column `text` holds {frame['text'].dtype}, not text; "
            "store the texts as strings"
        )
        raise SchemaError(msg)
    return frame


def _read(path: Path, kind: str) -> pl.DataFrame:
    if kind == "parquet":
        return pl.read_parquet(path)
    data = path.read_bytes()
    codec, skip = bom_codec(data)
    data = data[skip:].decode(codec).encode("utf-8") if codec != "utf-8" else data[skip:]
    if kind == "jsonl":
        return pl.read_ndjson(io.BytesIO(data), infer_schema_length=None)
    return pl.read_csv(
        io.BytesIO(data), infer_schema_length=10000, schema_overrides={"text": pl.String}
    )


def check_files(
    samples_path: Path,
    corpus_path: Path,
    config: FactoryConfig,
    eval_set_paths: Sequence[Path] = (),
) -> ExternalCheck:
    """Run the whole suite on `samples_path` against `corpus_path`, as a pipeline run would."""
    from factory.embedding import shared_embedder
    from factory.hashing import content_hash

    samples = _samples_frame(read_table(samples_path, "samples"))
    corpus = read_table(corpus_path, "corpus")
    for path in eval_set_paths:  # a broken eval set fails here, before any model loads
        resolve_eval_set(str(path), config.base_dir)
    if "split" in corpus.columns:
        corpus = corpus.filter(pl.col("split") == "train")
    corpus = corpus.filter(pl.col("text").is_not_null())
    if corpus.height < 2:
        msg = f"corpus {str(corpus_path)!r} has {corpus.height} usable rows; it needs at least 2"
        raise SchemaError(msg)
    corpus = corpus.with_columns(
        pl.col("text").map_elements(content_hash, pl.String).alias("doc_id")
    ).sort("doc_id")

    embedder = shared_embedder(config.embedding)
    checks = config.checks
    tools = QualityTools.from_config(config, embedder)
    labels = corpus["label"].cast(pl.String).to_list() if "label" in corpus.columns else None
    reference = QualityReference(
        doc_ids=corpus["doc_id"].to_list(),
        texts=corpus["text"].to_list(),
        labels=labels or [None] * corpus.height,
        groups=labels or [None] * corpus.height,
        vectors=tools.embed(corpus["text"].to_list()),
        embedder_fingerprint=str(getattr(embedder, "fingerprint", "")),
        target_mix=config.gaps.target_mix,
    )
    specs = [*checks.eval_sets, *(str(p) for p in eval_set_paths)]
    eval_sets = embedded_eval_sets(specs, tools, config.base_dir)
    gate = QualityGate(
        reference, eval_sets, checks, tools, label_top_k=config.synthesis.label_top_k
    )
    vectors = tools.embed(samples["text"].to_list())
    report = gate.judge(SampleSet(samples, vectors))

    reasons = screening_reasons(samples["text"].to_list(), vectors, eval_sets, checks)
    flagged = (
        samples.select("sample_id")
        .with_row_index("row")
        .with_columns(pl.Series("reason", reasons, dtype=pl.String))
        .filter(pl.col("reason").is_not_null())
    )
    return ExternalCheck(report, flagged, samples.height, corpus.height)


def report_rows(report: SuiteReport) -> list[dict[str, str]]:
    """One printable row per check: family, check, status, observed, threshold, blocking."""
    rows = []
    for c in report.checks:
        word = "<=" if c.bound == "max" else ">="
        rows.append(
            {
                "family": c.family,
                "check": c.name,
                "status": c.status,
                "observed": "n/a" if c.observed is None else f"{c.observed:.4g}",
                "threshold": "n/a" if c.threshold is None else f"{word} {c.threshold:.4g}",
                "blocking": "yes" if c.blocking else "no",
                "note": c.note if not c.applicable else c.derivation,
            }
        )
    return rows


def _samples_frame(frame: pl.DataFrame) -> pl.DataFrame:
    frame = frame.with_columns(pl.col("text").cast(pl.String))
    if "sample_id" not in frame.columns:
        source = "id" if "id" in frame.columns else None
        ids = (
            frame[source].cast(pl.String)
            if source
            else pl.Series([f"row-{i:06d}" for i in range(frame.height)])
        )
        frame = frame.with_columns(ids.alias("sample_id"))
    if "label" in frame.columns:
        frame = frame.with_columns(pl.col("label").cast(pl.String))
    return frame
