"""Corpus ingestion: sources, normalization, de-duplication, splits and quarantine."""

from factory.corpus.ingest import (
    IngestResult,
    IngestStats,
    NearDuplicateFinder,
    ingest_corpus,
    ingest_shard,
    merge_shards,
    near_duplicate_pairs,
)
from factory.corpus.normalize import normalize_text
from factory.corpus.readers import READERS, read_source
from factory.corpus.records import RawRecord
from factory.corpus.splits import SPLITS, assign_split

__all__ = [
    "READERS",
    "SPLITS",
    "IngestResult",
    "IngestStats",
    "NearDuplicateFinder",
    "RawRecord",
    "assign_split",
    "ingest_corpus",
    "ingest_shard",
    "merge_shards",
    "near_duplicate_pairs",
    "normalize_text",
    "read_source",
]
