"""The map of a corpus, reused while its inputs are unchanged (`factory.reuse`).

The projection (UMAP) is the map's costly step and depends only on the vectors, the map
settings and `k`; the caller's key fingerprints exactly those (and the code version), so a
stored map is the one `build_map_from_tables` would give again.

Example:
    >>> tables = map_tables(corpus, embeddings, MapConfig(), 10, store, key)  # doctest: +SKIP
    >>> tables.reused  # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from factory.config import MapConfig
from factory.mapping.build import build_map_from_tables
from factory.reuse import ResultStore

__all__ = ["MapTables", "map_tables"]


@dataclass(frozen=True)
class MapTables:
    """The map's two tables and figures; `reused` when they came from the store."""

    semantic_map: pl.DataFrame
    clusters: pl.DataFrame
    noise_share: float
    params: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    reused: bool = False


def map_tables(
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    config: MapConfig,
    k: int,
    store: ResultStore | None,
    key: str,
    progress: Callable[[int, int], None] | None = None,
) -> MapTables:
    """The stored map of `key` when `store` has it, else `build_map_from_tables` (then stored)."""
    stored = store.load(key) if store is not None else None
    if stored is not None and {"semantic_map", "clusters"} <= stored.frames.keys():
        return MapTables(
            stored.frames["semantic_map"],
            stored.frames["clusters"],
            float(stored.facts["noise_share"]),
            dict(stored.facts.get("params", {})),
            {},
            reused=True,
        )
    result = build_map_from_tables(corpus_documents, document_embeddings, config, k, progress)
    tables = MapTables(
        result.semantic_map, result.clusters, result.noise_share, result.params, result.timings
    )
    if store is not None:
        frames = {"semantic_map": tables.semantic_map, "clusters": tables.clusters}
        store.save(key, frames, {"noise_share": tables.noise_share, "params": tables.params})
    return tables
