"""The project home: the one place that names every file and folder under it.

Layout::

    HOME/
        tables/<name>.parquet, tables/<name>/<partition>.parquet   the layers' tables
        lancedb/                  vectors (LanceDB), cached by (content hash, model fingerprint)
        provenance/ledger.jsonl   the hash-chained ledger (and its .head)
        provenance/openlineage.jsonl   OpenLineage events (file transport)
        releases/<version>/       signed release folders; <version>.report.png beside each
        keys/release-signing.pem  the local release signing key (and its .pub)
        cache/                    teacher answers, reference-LM scores, eval-set vectors, reused
                                  layer results (map/, synthesis/)
        plots/                    the map and gap pictures
        students/                 student checkpoints and base-model evaluations
        quality/                  Great Expectations Data Docs and stored check results
        shards/                   the watched folder's shard registry
        experiments/              experiment work folders
        logs/                     logs of servers the factory starts
        dagster/                  the Dagster instance (DAGSTER_HOME)

Base models prepared from a GGUF file (dequantized once, about 20 s and 540 MB for SmolLM2) are
shared by every project of the user: they live in `user_cache()/models`, not in a home.

A layout change is one edit here.

Example:
    >>> home = Home(Path("/tmp/project/.factory"))
    >>> home.table_path("clusters").as_posix()
    '/tmp/project/.factory/tables/clusters.parquet'
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from factory.config import FactoryConfig

__all__ = ["Home", "shared_models", "user_cache"]

SIGNING_KEY_NAME = "release-signing.pem"


@dataclass(frozen=True)
class Home:
    """Paths under one project home; `signing_key_override` is `release.signing_key`, resolved."""

    root: Path
    signing_key_override: Path | None = None

    @classmethod
    def of(cls, config: FactoryConfig) -> Home:
        """The home of `config` (its `home`, resolved against the config file's folder)."""
        key = config.release.signing_key
        return cls(config.home_dir, config.resolve(key) if key else None)

    @classmethod
    def of_release(cls, release_dir: Path) -> Home | None:
        """The home a release folder was written into, or None when it sits elsewhere (a copy)."""
        release_dir = Path(release_dir).resolve()
        if release_dir.parent.name != "releases":
            return None
        return cls(release_dir.parent.parent)

    def ensure(self) -> Home:
        """Create the root folder (parents included) and return self."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def tables(self) -> Path:
        return self.root / "tables"

    def table_path(self, name: str, partition: str | None = None) -> Path:
        """Where table `name` (or its `partition`) lives."""
        if partition is None:
            return self.tables / f"{name}.parquet"
        return self.tables / name / f"{partition}.parquet"

    @property
    def lancedb(self) -> Path:
        return self.root / "lancedb"

    @property
    def provenance(self) -> Path:
        return self.root / "provenance"

    @property
    def ledger(self) -> Path:
        """The project ledger."""
        return self.provenance / "ledger.jsonl"

    @property
    def openlineage(self) -> Path:
        """The OpenLineage event log (file transport)."""
        return self.provenance / "openlineage.jsonl"

    @property
    def releases(self) -> Path:
        return self.root / "releases"

    def release_dir(self, version: str) -> Path:
        return self.releases / version

    def report_png(self, version: str) -> Path:
        """The rendered report of release `version`, kept outside its signed folder."""
        return self.releases / f"{version}.report.png"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def signing_key(self) -> Path:
        """`release.signing_key` when set, else HOME/keys/release-signing.pem."""
        return self.signing_key_override or self.keys / SIGNING_KEY_NAME

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def teacher_cache(self) -> Path:
        """Every teacher answer, keyed by request."""
        return self.cache / "teacher-responses.sqlite"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def students(self) -> Path:
        return self.root / "students"

    @property
    def quality(self) -> Path:
        return self.root / "quality"

    @property
    def shards(self) -> Path:
        return self.root / "shards"

    @property
    def experiments(self) -> Path:
        return self.root / "experiments"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def dagster(self) -> Path:
        """The Dagster instance folder (DAGSTER_HOME)."""
        return self.root / "dagster"


def user_cache() -> Path:
    """The user's factory cache, shared by all projects: `$FACTORY_CACHE_DIR`, else
    `$XDG_CACHE_HOME/factory`, else `~/.cache/factory` (where `make install` also keeps the
    compiled llama.cpp wheel)."""
    if explicit := os.environ.get("FACTORY_CACHE_DIR"):
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "factory"


def shared_models() -> Path:
    """Where base models prepared from GGUF files are kept, keyed by the file's SHA-256."""
    return user_cache() / "models"
