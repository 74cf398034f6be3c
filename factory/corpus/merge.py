"""The corpus from the shard store: every shard (stored, or read again when its inputs changed)
merged in a fixed order, near duplicates found through the project's embedding cache.

Example:
    >>> merged = merge_stored_shards(config, store, home.lancedb)  # doctest: +SKIP
    >>> merged.read  # shards read from their source this time  # doctest: +SKIP
    ['python-stdlib']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.ingest import (
    IngestResult,
    NearDuplicateFinder,
    ingest_corpus,
    near_duplicate_pairs,
)
from factory.corpus.shards import ShardStore

__all__ = ["MergedCorpus", "embedding_near_duplicates", "merge_stored_shards"]

Log = Callable[[str], None]


@dataclass(frozen=True)
class MergedCorpus:
    """The merged corpus and, per shard, whether the store's copy was reused."""

    result: IngestResult
    reused: dict[str, bool]

    @property
    def read(self) -> list[str]:
        """The shards read from their source (not reused), sorted."""
        return sorted(name for name, was_reused in self.reused.items() if not was_reused)


def embedding_near_duplicates(
    config: FactoryConfig, lancedb: Path, log: Log | None = None
) -> NearDuplicateFinder:
    """A finder of near duplicates (cosine >= `ingest.near_duplicate_threshold`) among texts
    embedded with the configured model through the embedding cache at `lancedb`."""
    threshold = config.ingest.near_duplicate_threshold or 1.0

    def find(doc_ids: list[str], texts: list[str]) -> dict[str, tuple[str, float]]:
        from factory.embedding import EmbeddingStore, shared_embedder

        store = EmbeddingStore(lancedb)
        vectors, stats = store.embed_texts(doc_ids, texts, shared_embedder(config.embedding))
        if log is not None:
            log(f"near-duplicate scan: {stats.embedded} embedded, {stats.cached} from cache")
        pairs = near_duplicate_pairs(np.asarray(vectors, dtype=np.float32), threshold)
        return {doc_ids[i]: (doc_ids[j], cos) for i, (j, cos) in pairs.items()}

    return find


def merge_stored_shards(
    config: FactoryConfig,
    store: ShardStore,
    lancedb: Path,
    previous: pl.DataFrame | None = None,
    log: Log | None = None,
) -> MergedCorpus:
    """Merge every shard of `config` (`ingest_corpus`), each taken from `store` unless its
    inputs changed; `previous` keeps first `ingested_at`s, `lancedb` caches the vectors of the
    near-duplicate scan (when `ingest.near_duplicate_threshold` is set)."""
    finder = None
    if config.ingest.near_duplicate_threshold is not None:
        finder = embedding_near_duplicates(config, lancedb, log)
    reused: dict[str, bool] = {}

    def read_shard(source: SourceConfig) -> IngestResult:
        shard = store.ensure(config, source)
        reused[shard.name] = shard.reused
        return shard.result

    result = ingest_corpus(config, previous=previous, near_duplicates=finder, read_shard=read_shard)
    return MergedCorpus(result, reused)
