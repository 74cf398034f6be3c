"""Which shards make the corpus: the configured sources, then a watched folder's files.

Every configured source is a shard named by its `id`; so is every file (or sub-folder of text
files) in `ingest.watch.folder`, named after the file (`watched_shard_name`): two files never
share a shard, so neither replaces the other.

Example:
    >>> from factory.config import FactoryConfig
    >>> list(shard_sources(FactoryConfig.from_dict({})))
    ['python-stdlib']
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from factory.config import FactoryConfig, SourceConfig
from factory.errors import ConfigError

__all__ = ["WATCHED_SUFFIXES", "shard_sources", "watched_shard_name"]

WATCHED_SUFFIXES = {".jsonl": "jsonl", ".csv": "csv", ".parquet": "parquet"}
"""File kinds a watched folder turns into shards; a sub-folder is read as `.txt`/`.md` files."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_DOTS = re.compile(r"\.{2,}")
_MAX_STEM = 120


def watched_shard_name(path: Path) -> str:
    """The shard (and `source_id`) of a watched file or folder, from its name alone.

    A source id is ASCII (letters, digits, `_`, `-`, `.`, starting with a letter or digit), so
    accented letters lose their accents (`é` -> `e`), any other run of characters becomes `-`,
    a run of dots one dot, and the name is cut to 120 characters before its suffix. A name that
    changed in any of these ways gets `-` and the first 8 hex digits of the SHA-256 of the
    original file name: `a b.csv` never takes the shard of `a-b.csv`, nor `é.csv` that of
    `ü.csv` or `e.csv`. A name that needed no change is kept as it is. The name depends on the
    file's own name alone, so a shard's name never changes when other files arrive.

    Example:
        >>> watched_shard_name(Path("a-b.csv")), watched_shard_name(Path("a b.csv"))
        ('a-b.csv', 'a-b-0c591648.csv')
        >>> watched_shard_name(Path("é.csv")), watched_shard_name(Path("ü.csv"))
        ('e-639050d1.csv', 'u-89ef708a.csv')
    """
    suffix = path.suffix if path.suffix.lower() in WATCHED_SUFFIXES and path.stem else ""
    stem = path.name[: len(path.name) - len(suffix)]
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    safe = _DOTS.sub(".", _UNSAFE.sub("-", plain)).lstrip("-._").rstrip("-.")[:_MAX_STEM]
    safe = safe.rstrip("-.") or "shard"
    if safe == stem:
        return path.name
    digest = hashlib.sha256(path.name.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{safe}-{digest}{suffix}"


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
        if name in shards:
            msg = (
                f"watched files {Path(shards[name].path or '').name!r} and {path.name!r} in "
                f"{str(root)!r} both make shard {name!r}; rename one of them"
            )
            raise ConfigError(msg)
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
