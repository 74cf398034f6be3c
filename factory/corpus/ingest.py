"""Ingestion: sources -> normalized, de-duplicated, split `corpus_documents` + `corpus_quarantine`.

Nothing is silently dropped: every row that does not become a document lands in the quarantine
with its file, line and reason (exact and near duplicates included, naming the kept `doc_id`;
so are the documents `ingest.max_documents` leaves out), so `read == accepted + quarantined`.

Example:
    >>> from factory.config import FactoryConfig
    >>> result = ingest_corpus(FactoryConfig.from_dict({"ingest": {"max_documents": 5}}))
    >>> result.documents.height
    5
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.normalize import normalize_text
from factory.corpus.readers import read_source
from factory.corpus.records import RAW_LIMIT, RawRecord
from factory.corpus.sources import shard_sources
from factory.corpus.splits import assign_split, normalize_split_name
from factory.corpus.stdlib import STDLIB_LICENSE
from factory.corpus.values import mapped_fields, task_value, text_value
from factory.hashing import content_hash
from factory.schemas import CORPUS_DOCUMENTS, CORPUS_QUARANTINE

__all__ = [
    "IngestResult",
    "IngestStats",
    "NearDuplicateFinder",
    "ingest_corpus",
    "ingest_shard",
    "merge_shards",
    "near_duplicate_pairs",
]

log = logging.getLogger(__name__)

UNKNOWN_LICENSE = "unknown"
TASK_FIELDS = ("label", "answer")
REQUIRED_FIELD = {"classification": "label", "qa": "answer"}

# (doc_ids, texts) in doc_id order -> {duplicate doc_id: (kept doc_id, cosine)}
NearDuplicateFinder = Callable[[list[str], list[str]], dict[str, tuple[str, float]]]


@dataclass
class IngestStats:
    """Counts of what ingestion read, kept and rejected."""

    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    excluded_by_max_documents: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    per_source: dict[str, int] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
    unlicensed_sources: list[str] = field(default_factory=list)

    def as_metadata(self) -> dict[str, Any]:
        """Plain-data view for logs and asset metadata."""
        return {
            "read": self.read,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "exact_duplicates": self.exact_duplicates,
            "near_duplicates": self.near_duplicates,
            "excluded_by_max_documents": self.excluded_by_max_documents,
            "quarantine_reasons": dict(self.reasons.most_common()),
            "per_source": dict(self.per_source),
            "splits": dict(self.splits),
            "unlicensed_sources": list(self.unlicensed_sources),
        }

    @classmethod
    def from_metadata(cls, data: dict[str, Any]) -> IngestStats:
        """The stats `as_metadata` described."""
        return cls(
            read=data["read"],
            accepted=data["accepted"],
            quarantined=data["quarantined"],
            exact_duplicates=data["exact_duplicates"],
            near_duplicates=data["near_duplicates"],
            excluded_by_max_documents=data["excluded_by_max_documents"],
            reasons=Counter(data["quarantine_reasons"]),
            per_source=dict(data["per_source"]),
            splits=dict(data["splits"]),
            unlicensed_sources=list(data["unlicensed_sources"]),
        )


@dataclass
class IngestResult:
    """The two tables ingestion writes, plus its counts."""

    documents: pl.DataFrame
    quarantine: pl.DataFrame
    stats: IngestStats


@dataclass
class _Accepted:
    doc_id: str
    text: str
    label: str | None
    answer: str | None
    split: str
    source_id: str
    source_uri: str
    license: str


def _reason_key(reason: str) -> str:
    return reason.split(":", 1)[0]


class _Ingestor:
    """Walks the records of every source once, accepting or quarantining each."""

    def __init__(self, config: FactoryConfig) -> None:
        self.config = config
        self.stats = IngestStats()
        self.accepted: dict[str, _Accepted] = {}
        self.quarantine: list[dict[str, Any]] = []

    def reject(self, source_id: str, record: RawRecord, reason: str, doc_id: str | None) -> None:
        self.quarantine.append(
            {
                "source_id": source_id,
                "source_uri": record.source_uri,
                "line": record.line,
                "reason": reason,
                "raw": record.raw[:RAW_LIMIT],
                "doc_id": doc_id,
            }
        )
        self.stats.reasons[_reason_key(reason)] += 1

    def add_source(self, source: SourceConfig, records: Iterable[RawRecord]) -> None:
        license_id = source.license or (STDLIB_LICENSE if source.kind == "stdlib" else None)
        if license_id is None:
            self.stats.unlicensed_sources.append(source.id)
            log.warning(
                "source %r declares no license: its rows are marked %r and a release built on "
                "them is blocked for commercial use; set `license` (an SPDX id) on the source",
                source.id,
                UNKNOWN_LICENSE,
            )
        count = 0
        for record in records:
            self.stats.read += 1
            count += 1
            self.add_record(source, record, license_id or UNKNOWN_LICENSE)
        self.stats.per_source[source.id] = count

    def add_record(self, source: SourceConfig, record: RawRecord, license_id: str) -> None:
        if record.reason is not None:
            self.reject(source.id, record, record.reason, None)
            return
        fields = mapped_fields(record.fields, source.fields)
        value, problem = text_value(fields, source.text_field)
        if value is None:
            self.reject(source.id, record, problem or "", None)
            return
        text = normalize_text(value)
        ingest = self.config.ingest
        if not text:
            self.reject(source.id, record, "empty: no text after normalization", None)
            return
        doc_id = content_hash(text)
        if len(text) < ingest.min_chars:
            reason = f"too short: {len(text)} chars < ingest.min_chars={ingest.min_chars}"
            self.reject(source.id, record, reason, doc_id)
            return
        if len(text) > ingest.max_chars:
            reason = f"over-long: {len(text)} chars > ingest.max_chars={ingest.max_chars}"
            self.reject(source.id, record, reason, doc_id)
            return
        task_values: dict[str, str | None] = {}
        for name in TASK_FIELDS:
            task_values[name], problem = task_value(fields, name)
            if problem is not None:
                self.reject(source.id, record, problem, doc_id)
                return
        required = REQUIRED_FIELD.get(self.config.task.kind)
        if required and task_values[required] is None:
            reason = (
                f"missing field: task {self.config.task.kind!r} needs {required!r}; map a source "
                f"column to it with `fields`"
            )
            self.reject(source.id, record, reason, doc_id)
            return
        split = self.split_of(source, fields, doc_id)
        if split is None:
            shown = fields.get(source.split_field or "")
            reason = f"wrong schema: split value {shown!r} is not train, validation or test"
            self.reject(source.id, record, reason, doc_id)
            return
        kept = self.accepted.get(doc_id)
        if kept is not None:
            self.stats.exact_duplicates += 1
            if (kept.label, kept.answer) != (task_values["label"], task_values["answer"]):
                reason = f"conflicting duplicate: same text as {doc_id[:12]} with other task fields"
            else:
                reason = f"exact duplicate: same text as {kept.source_uri}"
            self.reject(source.id, record, reason, doc_id)
            return
        uri = record.source_uri if record.line is None else f"{record.source_uri}#L{record.line}"
        self.accepted[doc_id] = _Accepted(
            doc_id,
            text,
            task_values["label"],
            task_values["answer"],
            split,
            source.id,
            uri,
            license_id,
        )

    def split_of(self, source: SourceConfig, fields: dict[str, Any], doc_id: str) -> str | None:
        if source.split_field:
            return normalize_split_name(fields.get(source.split_field))
        return assign_split(doc_id, self.config.splits)


def ingest_shard(
    config: FactoryConfig,
    source: SourceConfig,
    now: datetime | None = None,
    previous: pl.DataFrame | None = None,
) -> IngestResult:
    """Read one source (a shard) into its documents (by `doc_id`) and quarantine.

    Duplicates within the shard are quarantined here; those across shards, near duplicates and
    `ingest.max_documents` are the merge's (`merge_shards`), which sees every shard. `previous`
    (the shard's earlier documents) keeps each row's first `ingested_at`.
    """
    log.info("reading source %r (%s)", source.id, source.kind)
    ingestor = _Ingestor(config)
    ingestor.add_source(source, read_source(source, config))
    timestamp = now or datetime.now(UTC)
    first_seen = _first_seen(previous)
    ordered = sorted(ingestor.accepted.values(), key=lambda d: d.doc_id)
    return _result(ordered, ingestor, lambda doc_id: first_seen.get(doc_id, timestamp))


def merge_shards(
    config: FactoryConfig,
    shards: Iterable[IngestResult],
    previous: pl.DataFrame | None = None,
    near_duplicates: NearDuplicateFinder | None = None,
    now: datetime | None = None,
) -> IngestResult:
    """The corpus of `shards` (in merge order): a text kept by an earlier shard is quarantined
    as a duplicate in a later one, then near duplicates and `ingest.max_documents` apply over
    all documents by `doc_id`, so the result never depends on the order shards were ingested.

    `previous` (an earlier `corpus_documents`) keeps each row's first `ingested_at`;
    `near_duplicates` is required when `ingest.near_duplicate_threshold` is set.
    """
    ingestor = _Ingestor(config)
    stats = ingestor.stats
    first_seen: dict[str, datetime] = {}
    for shard in shards:
        _add_stats(stats, shard.stats)
        ingestor.quarantine.extend(shard.quarantine.to_dicts())
        for row in shard.documents.iter_rows(named=True):
            doc = _Accepted(**{k: row[k] for k in _Accepted.__dataclass_fields__})
            kept = ingestor.accepted.get(doc.doc_id)
            if kept is None:
                ingestor.accepted[doc.doc_id] = doc
                first_seen[doc.doc_id] = row["ingested_at"]
                continue
            stats.exact_duplicates += 1
            if (kept.label, kept.answer) != (doc.label, doc.answer):
                reason = (
                    f"conflicting duplicate: same text as {doc.doc_id[:12]} with other task fields"
                )
            else:
                reason = f"exact duplicate: same text as {kept.source_uri}"
            ingestor.reject(doc.source_id, _record_of(doc), reason, doc.doc_id)
    ordered = sorted(ingestor.accepted.values(), key=lambda d: d.doc_id)

    if config.ingest.near_duplicate_threshold is not None and ordered:
        if near_duplicates is None:
            msg = "ingest.near_duplicate_threshold is set but no near-duplicate finder was given"
            raise ValueError(msg)
        found = near_duplicates([d.doc_id for d in ordered], [d.text for d in ordered])
        for dup_id, (kept_id, cosine) in sorted(found.items()):
            dup = ingestor.accepted[dup_id]
            reason = f"near duplicate: cosine {cosine:.3f} to {kept_id[:12]}"
            ingestor.reject(dup.source_id, _record_of(dup), reason, dup_id)
        stats.near_duplicates = len(found)
        ordered = [d for d in ordered if d.doc_id not in found]

    limit = config.ingest.max_documents
    if limit is not None and len(ordered) > limit:
        stats.excluded_by_max_documents = len(ordered) - limit
        reason = (
            f"over max_documents: not among the first {limit} documents by doc_id "
            f"(ingest.max_documents={limit})"
        )
        for doc in ordered[limit:]:
            ingestor.reject(doc.source_id, _record_of(doc), reason, doc.doc_id)
        ordered = ordered[:limit]

    first_seen |= _first_seen(previous)
    timestamp = now or datetime.now(UTC)
    return _result(ordered, ingestor, lambda doc_id: first_seen.get(doc_id, timestamp))


def ingest_corpus(
    config: FactoryConfig,
    previous: pl.DataFrame | None = None,
    near_duplicates: NearDuplicateFinder | None = None,
    now: datetime | None = None,
    read_shard: Callable[[SourceConfig], IngestResult] | None = None,
) -> IngestResult:
    """Read every shard of the corpus (`shard_sources`: the configured sources, then a watched
    folder's files) and merge them into the documents and the quarantine.

    `read_shard` returns one shard's `IngestResult` (default: `ingest_shard`; a
    `ShardStore` reuses the shards it already holds); the rest is as for `merge_shards`.
    """

    def fresh(source: SourceConfig) -> IngestResult:
        return ingest_shard(config, source, now)

    read = read_shard or fresh
    shards = (read(source) for source in shard_sources(config).values())
    return merge_shards(config, shards, previous, near_duplicates, now)


def _record_of(doc: _Accepted) -> RawRecord:
    """A quarantine record for an accepted document found to be a duplicate after all."""
    uri, _, line = doc.source_uri.rpartition("#L")
    if uri and line.isdigit():
        return RawRecord(uri, int(line), {}, None, doc.text[:RAW_LIMIT])
    return RawRecord(doc.source_uri, None, {}, None, doc.text[:RAW_LIMIT])


def _add_stats(total: IngestStats, shard: IngestStats) -> None:
    total.read += shard.read
    total.reasons.update(shard.reasons)
    total.exact_duplicates += shard.exact_duplicates
    total.per_source.update(shard.per_source)
    total.unlicensed_sources.extend(shard.unlicensed_sources)


def _result(
    ordered: list[_Accepted], ingestor: _Ingestor, ingested_at: Callable[[str], datetime]
) -> IngestResult:
    stats = ingestor.stats
    documents = pl.DataFrame(
        {
            "doc_id": [d.doc_id for d in ordered],
            "text": [d.text for d in ordered],
            "label": [d.label for d in ordered],
            "answer": [d.answer for d in ordered],
            "split": [d.split for d in ordered],
            "source_id": [d.source_id for d in ordered],
            "source_uri": [d.source_uri for d in ordered],
            "license": [d.license for d in ordered],
            "ingested_at": [ingested_at(d.doc_id) for d in ordered],
        },
        schema=CORPUS_DOCUMENTS.empty().schema,
    )
    quarantine = pl.DataFrame(ingestor.quarantine, schema=CORPUS_QUARANTINE.empty().schema)
    stats.accepted = documents.height
    stats.quarantined = quarantine.height
    stats.splits = {k: v for k, v in sorted(Counter(documents["split"].to_list()).items())}
    return IngestResult(
        CORPUS_DOCUMENTS.validate(documents), CORPUS_QUARANTINE.validate(quarantine), stats
    )


def _first_seen(previous: pl.DataFrame | None) -> dict[str, datetime]:
    if previous is None or previous.is_empty() or "ingested_at" not in previous.columns:
        return {}
    return dict(zip(previous["doc_id"].to_list(), previous["ingested_at"].to_list(), strict=True))


def near_duplicate_pairs(
    vectors: np.ndarray, threshold: float, block: int = 2048
) -> dict[int, tuple[int, float]]:
    """Greedy near-duplicate removal over unit `vectors` (shape (n, d)) in row order.

    Row i is a duplicate when some earlier *kept* row j has cosine >= `threshold`; returns
    {i: (j, cosine)}. Work is blockwise, so memory stays O(block * n).
    """
    n = vectors.shape[0]
    earlier: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    for start in range(0, n, block):
        stop = min(start + block, n)
        sims = vectors[start:stop] @ vectors[:stop].T
        for offset in range(stop - start):
            row = sims[offset, : start + offset]
            hits = np.nonzero(row >= threshold)[0]
            if hits.size:
                earlier[start + offset] = [(int(j), float(row[j])) for j in hits]
    duplicates: dict[int, tuple[int, float]] = {}
    for i, candidates in enumerate(earlier):
        kept = [(j, s) for j, s in candidates if j not in duplicates]
        if kept:
            duplicates[i] = max(kept, key=lambda js: js[1])
    return duplicates
