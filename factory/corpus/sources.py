"""Which shards make the corpus: the configured sources, then a watched folder's files.

Every configured source is a shard named by its `id`; so is every file (or sub-folder of text
files) in `ingest.watch.folder`, named after the file.

Example:
    >>> from factory.config import FactoryConfig
    >>> list(shard_sources(FactoryConfig.from_dict({})))
    ['python-stdlib']
"""

from __future__ import annotations

import re
from pathlib import Path

from factory.config import FactoryConfig, SourceConfig
from factory.errors import ConfigError

__all__ = ["WATCHED_SUFFIXES", "shard_sources", "watched_shard_name"]

WATCHED_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
"""File kinds a watched folder turns into shards; a sub-folder is read as `.txt`/`.md` files."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def watched_shard_name(path: Path) -> str:
    """The shard (and `source_id`) of a watched file: its name with unsafe characters as `-`."""
    name = _UNSAFE.sub("-", path.name).strip("-.")
    return name or "shard"


def _watched(config: FactoryConfig) -> dict[str, SourceConfig]:
    watch = config.ingest.watch
    if watch.folder is None:
        return {}
    root = config.resolve(watch.folder)
    if not root.is_dir():
        return {}
    shards: dict[str, SourceConfig] = {}
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        kind = "folder" if path.is_dir() else WATCHED_SUFFIXES.get(path.suffix.lower())
        if kind is None:
            continue
        name = watched_shard_name(path)
        shards[name] = SourceConfig(
            id=name,
            kind=kind,  # type: ignore[arg-type]
            path=str(path),
            text_field=watch.text_field,
            fields=dict(watch.fields),
            split_field=watch.split_field,
            license=watch.license,
            origin=f"watched folder {root}",
        )
    return shards


def shard_sources(config: FactoryConfig) -> dict[str, SourceConfig]:
    """Every shard of the corpus in merge order: the configured sources as listed, then the
    watched folder's files by name."""
    configured = {source.id: source for source in config.sources}
    watched = _watched(config)
    clashes = sorted(configured.keys() & watched.keys())
    if clashes:
        msg = (
            f"watched file(s) {clashes} in {config.ingest.watch.folder!r} share a name with a "
            "configured source id; rename the file or the source"
        )
        raise ConfigError(msg)
    return configured | watched
