"""Takedowns: leave named documents or sources out of a release, with every row derived from them.

`exclude` asks `lineage.trace.impact` what each query reaches (its documents, and every synthetic
row that names one of them as a parent or answers one of its failures), drops those rows and
returns an `ExclusionEntry` per query for the report and the ledger.

Example:
    >>> found = exclude(home, ["banking77"], "license revoked", corpus, samples)  # doctest: +SKIP
    >>> found.entries[0]["documents"], found.samples.height  # doctest: +SKIP
    (400, 0)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from factory.home import Home
from lineage.release.info import ExclusionEntry
from lineage.trace import impact, read_lineage_tables

__all__ = ["Exclusion", "exclude"]


@dataclass(frozen=True)
class Exclusion:
    """What remains after an exclusion, and what each query removed."""

    entries: list[ExclusionEntry]
    corpus: pl.DataFrame
    samples: pl.DataFrame


def exclude(
    home: Home,
    queries: list[str],
    reason: str | None,
    corpus: pl.DataFrame,
    samples: pl.DataFrame,
) -> Exclusion:
    """Drop every document `queries` names (doc_ids or source_ids) and every synthetic row
    derived from them; the lineage tables under `home` say what derives from what."""
    tables = read_lineage_tables(home)
    entries: list[ExclusionEntry] = []
    doc_ids: set[str] = set()
    sample_ids: set[str] = set()
    for query in dict.fromkeys(queries):
        found = impact(tables, query)
        doc_ids.update(found["documents"])
        sample_ids.update(found["synthetic_samples"])
        entries.append(
            {
                "query": query,
                "kind": found["kind"],
                "documents": len(found["documents"]),
                "synthetic_samples": len(found["synthetic_samples"]),
                "reason": reason,
            }
        )
    return Exclusion(
        entries,
        corpus.filter(~pl.col("doc_id").is_in(list(doc_ids))),
        samples.filter(~pl.col("sample_id").is_in(list(sample_ids))),
    )
