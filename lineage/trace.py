"""Row-level lineage read back from the project's tables and ledger.

Forward, `trace_sample`: where one synthetic row came from (its train parents with their source
file and license, its gap, technique, teacher, prompt hash, seed, run and the quality gate that
judged its round). Backward, `impact`: every synthetic row, student checkpoint and release that
derives from a document or from a whole source.

The tables are every round's Parquet files under `HOME/tables` (`read_lineage_tables`); nothing
here imports dagster.

Example:
    >>> tables = read_lineage_tables(Home(Path(".factory")))  # doctest: +SKIP
    >>> trace_sample(tables, Ledger(...).records(), "3f2a...")["gap"]["kind"]  # doctest: +SKIP
    'bridge'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from factory.home import Home
from lineage.errors import LineageError

__all__ = ["LineageTables", "impact", "read_lineage_tables", "trace_sample"]


@dataclass(frozen=True)
class LineageTables:
    """The tables lineage questions are answered from; round tables hold every round."""

    corpus: pl.DataFrame
    samples: pl.DataFrame
    gaps: pl.DataFrame
    checkpoints: pl.DataFrame
    releases: pl.DataFrame


def _rounds(tables: Path, name: str) -> pl.DataFrame:
    """Every round of a round-partitioned table, each row tagged with `round` (as stored)."""
    folder = tables / name
    files = sorted(folder.glob("*.parquet"), key=lambda p: (len(p.stem), p.stem))
    parts = []
    for path in files:
        frame = pl.read_parquet(path)
        if "round" not in frame.columns:
            frame = frame.with_columns(pl.lit(int(path.stem)).alias("round"))
        parts.append(frame)
    return pl.concat(parts, how="diagonal_relaxed") if parts else pl.DataFrame()


def read_lineage_tables(home: Home) -> LineageTables:
    """The corpus and every round's samples, gaps, checkpoints and releases under `home`."""
    tables = home.tables
    corpus_path = home.table_path("corpus_documents")
    if not corpus_path.is_file():
        msg = f"no corpus_documents table under {tables}; run the pipeline first (factory run)"
        raise LineageError(msg)
    return LineageTables(
        corpus=pl.read_parquet(corpus_path),
        samples=_rounds(tables, "synthetic_samples"),
        gaps=_rounds(tables, "coverage_gaps"),
        checkpoints=_rounds(tables, "student_checkpoint"),
        releases=_rounds(tables, "dataset_release"),
    )


def _documents(corpus: pl.DataFrame, doc_ids: list[str]) -> list[dict[str, Any]]:
    columns = ["doc_id", "split", "source_id", "source_uri", "license", "label"]
    found = corpus.filter(pl.col("doc_id").is_in(doc_ids)).select(
        [c for c in columns if c in corpus.columns]
    )
    by_id = {row["doc_id"]: row for row in found.iter_rows(named=True)}
    return [by_id.get(d, {"doc_id": d, "missing": True}) for d in doc_ids]


def _gate(records: list[dict[str, Any]], run_id: str, round_number: int) -> dict[str, Any] | None:
    """The latest quality-gate record of the sample's run and round (None when never judged)."""
    mine = [
        r["body"]
        for r in records
        if r.get("kind") == "quality_check"
        and r["body"].get("dagster_run_id") == run_id
        and str(r["body"].get("round") or round_number) == str(round_number)
    ]
    if not mine:
        return None
    body = mine[-1]
    checks = body.get("checks", [])

    def named(status: str) -> list[str]:
        return sorted(c["name"] for c in checks if c.get("status") == status)

    return {
        "passed": body.get("passed"),
        "data_version": body.get("data_version"),
        "checks_passed": named("passed"),
        "checks_failed": named("failed"),
        "checks_not_applicable": named("not applicable"),
    }


def trace_sample(
    tables: LineageTables, records: list[dict[str, Any]], sample_id: str
) -> dict[str, Any]:
    """Everything recorded about synthetic row `sample_id`, as plain JSON-ready data."""
    samples = tables.samples
    if samples.height == 0 or "sample_id" not in samples.columns:
        msg = "no synthetic_samples table yet; run `factory run` first"
        raise LineageError(msg)
    hits = samples.filter(pl.col("sample_id") == sample_id)
    if hits.height == 0:
        near = samples.filter(pl.col("sample_id").str.starts_with(sample_id))
        if near.height != 1:
            msg = (
                f"no synthetic row has sample_id {sample_id!r}"
                + (f" ({near.height} start with it; give more characters)" if near.height else "")
                + "; list them with `factory status` or read synthetic_samples"
            )
            raise LineageError(msg)
        hits = near
    row = hits.row(0, named=True)
    gap = tables.gaps.filter(
        (pl.col("gap_id") == row["gap_id"]) & (pl.col("round") == row["round"])
    ) if tables.gaps.height else pl.DataFrame()  # fmt: skip
    gap_row = gap.row(0, named=True) if gap.height else {}
    return {
        "sample_id": row["sample_id"],
        "text": row["text"],
        "label": row.get("label"),
        "answer": row.get("answer"),
        "round": row["round"],
        "method": row["method"],
        "curriculum_stage": row["curriculum_stage"],
        "parents": _documents(tables.corpus, list(row["parent_doc_ids"] or [])),
        "answers_failures": _documents(tables.corpus, list(row.get("failure_doc_ids") or [])),
        "gap": {
            "gap_id": row["gap_id"],
            "kind": gap_row.get("kind"),
            "rank": gap_row.get("rank"),
            "rationale": gap_row.get("rationale"),
        },
        "target_id": row["target_id"],
        "target_cosine": row["target_cosine"],
        "achieved_cosine": row["achieved_cosine"],
        "teacher_fingerprint": row["teacher_fingerprint"],
        "prompt_template_hash": row["prompt_template_hash"],
        "sampling_params": row["sampling_params"],
        "seed": row["seed"],
        "run_id": row["run_id"],
        "quality_gate": _gate(records, row["run_id"], row["round"]),
    }


def _released(tables: LineageTables, doc_ids: set[str], sample_ids: set[str]) -> list[str]:
    """Release folders whose tables hold one of the documents or samples (only the `doc_id` and
    `sample_id` columns are read)."""
    wanted = {"doc_id": list(doc_ids), "sample_id": list(sample_ids)}
    out = []
    for path in tables.releases["release_path"].to_list() if tables.releases.height else []:
        for part in sorted((Path(path) / "data").glob("*.parquet")):
            keys = [c for c in pl.read_parquet_schema(part) if c in wanted]
            frame = pl.read_parquet(part, columns=keys) if keys else pl.DataFrame()
            if any(frame[c].is_in(wanted[c]).any() for c in keys):
                out.append(str(path))
                break
    return sorted(set(out))


def impact(tables: LineageTables, doc_or_source: str) -> dict[str, Any]:
    """Every synthetic row, checkpoint and release that derives from document `doc_or_source`
    (a doc_id) or from every document of source `doc_or_source` (a source_id)."""
    corpus = tables.corpus
    by_source = corpus.filter(pl.col("source_id") == doc_or_source)
    if by_source.height:
        kind, docs = "source", by_source
    else:
        docs = corpus.filter(pl.col("doc_id") == doc_or_source)
        kind = "document"
        if docs.height == 0:
            sources = sorted(set(corpus["source_id"].to_list()))
            msg = (
                f"{doc_or_source!r} is neither a doc_id nor a source_id of the corpus "
                f"(sources: {', '.join(sources)})"
            )
            raise LineageError(msg)
    doc_ids = set(docs["doc_id"].to_list())
    samples = tables.samples
    derived = (
        samples.filter(
            pl.col("parent_doc_ids").list.eval(pl.element().is_in(list(doc_ids))).list.any()
            | pl.col("failure_doc_ids").list.eval(pl.element().is_in(list(doc_ids))).list.any()
        )
        if samples.height
        else pl.DataFrame(
            {"sample_id": [], "round": []}, schema={"sample_id": pl.String, "round": pl.Int64}
        )
    )
    trained = docs.filter(pl.col("split") == "train").height > 0
    first_round = min(derived["round"].to_list(), default=None)
    checkpoints = []
    if tables.checkpoints.height:
        for row in tables.checkpoints.iter_rows(named=True):
            if trained or (first_round is not None and row["round"] >= first_round):
                checkpoints.append(
                    {
                        "round": row["round"],
                        "checkpoint_hash": row["checkpoint_hash"],
                        "checkpoint_path": row["checkpoint_path"],
                    }
                )
    sample_ids = set(derived["sample_id"].to_list())
    return {
        "query": doc_or_source,
        "kind": kind,
        "documents": sorted(doc_ids),
        "synthetic_samples": sorted(sample_ids),
        "checkpoints": checkpoints,
        "releases": _released(tables, doc_ids, sample_ids),
    }
