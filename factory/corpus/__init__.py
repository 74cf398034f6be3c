"""Corpus ingestion: sources, normalization, de-duplication, splits and quarantine."""

from __future__ import annotations

from factory.corpus.ingest import (
    IngestResult,
    IngestStats,
    ingest_corpus,
    ingest_shard,
    merge_shards,
)
from factory.corpus.merge import MergedCorpus, merge_stored_shards
from factory.corpus.normalize import normalize_text
from factory.corpus.readers import READERS, read_source

__all__ = [
    "READERS",
    "IngestResult",
    "IngestStats",
    "MergedCorpus",
    "ingest_corpus",
    "ingest_shard",
    "merge_shards",
    "merge_stored_shards",
    "normalize_text",
    "read_source",
]
