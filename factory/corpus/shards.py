"""Corpus shards: the unit the corpus and embeddings layers are partitioned by.

Every configured source is a shard named by its `id`; so is every file (or sub-folder of text
files) in `ingest.watch.folder`, named after the file. A shard is ingested and embedded on its
own; the merged `corpus_documents` (and everything after it) is computed over all shards in a
fixed order, so adding a shard never changes how the others were read.

Which shards make the corpus is `factory.corpus.sources.shard_sources`. A stored shard that
cannot be read (a file truncated by a crash before writes were synced, or damaged since) is
read again from its source, with a warning, instead of failing every later run.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.ingest import IngestResult, IngestStats, ingest_shard
from factory.hashing import fingerprint
from factory.storage import write_parquet_atomic, write_text_atomic

__all__ = [
    "SHARD_CODE_VERSION",
    "ShardStore",
    "StoredShard",
    "shard_input_fingerprint",
]

SHARD_CODE_VERSION = "shard-v2"  # v2: wrong types quarantined, BOMs read

log = logging.getLogger(__name__)


def _source_state(source: SourceConfig, config: FactoryConfig) -> object:
    """What changes when a source's content may have changed, without reading it."""
    if source.kind == "stdlib":
        return sys.version
    if source.kind == "hub":
        return [source.dataset_id, source.dataset_split]
    path = config.resolve(source.path or "")
    if path.is_file():
        stat = path.stat()
        return [stat.st_size, stat.st_mtime_ns]
    if path.is_dir():
        return [
            [str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(path.rglob("*"))
            if p.is_file()
        ]
    return None


def shard_input_fingerprint(source: SourceConfig, config: FactoryConfig) -> str:
    """Changes whenever ingesting or embedding the shard could give another result: its
    source's settings or files, the ingestion and split rules, the task or the embedder."""
    return fingerprint(
        SHARD_CODE_VERSION,
        source.model_dump(mode="json"),
        _source_state(source, config),
        config.ingest.model_dump(mode="json", exclude={"watch"}),
        config.splits.model_dump(mode="json"),
        config.task.kind,
        config.embedding.model_dump(mode="json", exclude={"api_key_env"}),
    )


@dataclass(frozen=True)
class StoredShard:
    """One shard as the store holds it, and whether this call reused it or read its source."""

    name: str
    input_fingerprint: str
    result: IngestResult
    reused: bool


class ShardStore:
    """Ingested shards under `root` (`HOME/shards`): `<name>/documents.parquet`,
    `quarantine.parquet` and `shard.json` (input fingerprint and counts), each replaced
    atomically, so a shard is read from its source once per input fingerprint."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, name: str) -> Path:
        return self.root / name

    def load(self, name: str, input_fingerprint: str) -> IngestResult | None:
        """The stored shard `name`, or None when absent or ingested from other inputs."""
        folder = self._folder(name)
        try:
            info = json.loads((folder / "shard.json").read_text(encoding="utf-8"))
            fingerprint_ok = info["input_fingerprint"] == input_fingerprint
            stats = IngestStats.from_metadata(info["stats"]) if fingerprint_ok else None
        except OSError:  # never stored
            return None
        except (ValueError, KeyError, TypeError) as exc:
            log.warning(
                "shard %r: shard.json is damaged (%r); read again from its source", name, exc
            )
            return None
        if stats is None:
            return None
        documents = _read_stored(folder / "documents.parquet")
        quarantine = _read_stored(folder / "quarantine.parquet")
        if documents is None or quarantine is None:
            return None
        return IngestResult(documents, quarantine, stats)

    def save(self, name: str, input_fingerprint: str, result: IngestResult) -> None:
        """Write shard `name`; its `shard.json` goes last, so a half-written shard never loads."""
        folder = self._folder(name)
        write_parquet_atomic(result.documents, folder / "documents.parquet")
        write_parquet_atomic(result.quarantine, folder / "quarantine.parquet")
        info = {
            "shard": name,
            "input_fingerprint": input_fingerprint,
            "stats": result.stats.as_metadata(),
        }
        write_text_atomic(json.dumps(info, indent=1, sort_keys=True), folder / "shard.json")

    def ensure(
        self, config: FactoryConfig, source: SourceConfig, now: datetime | None = None
    ) -> StoredShard:
        """Shard `source.id`, read from its source only when its input fingerprint changed;
        a re-read keeps each document's first `ingested_at`."""
        key = shard_input_fingerprint(source, config)
        stored = self.load(source.id, key)
        if stored is not None:
            return StoredShard(source.id, key, stored, reused=True)
        previous = _read_stored(self._folder(source.id) / "documents.parquet", warn=False)
        result = ingest_shard(config, source, now, previous=previous)
        self.save(source.id, key, result)
        return StoredShard(source.id, key, result, reused=False)


def _read_stored(path: Path, warn: bool = True) -> pl.DataFrame | None:
    """A stored shard table, or None when absent or unreadable (with a warning if `warn`)."""
    if not path.exists():
        return None
    try:
        return pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        if not warn:
            return None
        log.warning(
            "shard %r: %s is not a readable Parquet file (%s); read again from its source",
            path.parent.name,
            path.name,
            exc,
        )
        return None
