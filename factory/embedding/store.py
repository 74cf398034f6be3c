"""Embeddings on disk in LanceDB, cached by (content hash, model fingerprint).

Each model fingerprint has its own cache table `cache_<fp[:16]>` of (content_hash, vector); a
rerun embeds only the texts whose hash is not there yet, and another model starts a new table.
The `document_embeddings` table holds the vectors of the current corpus.

Example:
    >>> store = EmbeddingStore(home / "vectors")  # doctest: +SKIP
    >>> table, stats = store.embed_documents(docs, embedder)  # doctest: +SKIP
    >>> store.write_embeddings(table)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from factory.embedding.base import Embedder, Progress
from factory.errors import BackendError, FactoryError, SchemaError
from factory.schemas import DOCUMENT_EMBEDDINGS, vector_dtype

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.db import DBConnection
    from lancedb.table import Table

__all__ = ["EMBEDDINGS_TABLE", "EmbedStats", "EmbeddingStore", "cache_table_name"]

EMBEDDINGS_TABLE = "document_embeddings"
_FP_KEY = b"factory.model_fingerprint"
_INFO_KEY = b"factory.model_info"


@dataclass(frozen=True)
class EmbedStats:
    """Counts of one embedding run: inputs, served from cache, newly embedded (unique), seconds."""

    total: int
    cached: int
    embedded: int
    seconds: float

    def as_metadata(self) -> dict[str, int | float]:
        """Plain dict for asset metadata."""
        return {
            "total": self.total,
            "cached": self.cached,
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
        }


def cache_table_name(model_fingerprint: str) -> str:
    """Name of the cache table for one model fingerprint."""
    return f"cache_{model_fingerprint[:16]}"


class EmbeddingStore:
    """A LanceDB database folder holding embedding caches and the `document_embeddings` table."""

    def __init__(self, uri: Path | str) -> None:
        self.uri = uri
        self._db: DBConnection | None = None

    @property
    def db(self) -> DBConnection:
        """The LanceDB connection (opened on first use)."""
        if self._db is None:
            try:
                import lancedb
            except ImportError as exc:
                msg = "lancedb is not installed; run `pip install lancedb`"
                raise BackendError(msg) from exc
            if isinstance(self.uri, Path):
                self.uri.mkdir(parents=True, exist_ok=True)
            self._db = lancedb.connect(str(self.uri))
        return self._db

    def embed_texts(
        self,
        keys: list[str],
        texts: list[str],
        embedder: Embedder,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, EmbedStats]:
        """Vectors for `texts` in input order, shape (n, d); only uncached keys are embedded.

        `keys` are content hashes; `progress(done, total)` counts the texts being embedded.
        """
        import pyarrow as pa
        import pyarrow.compute as pc

        start = time.perf_counter()
        if len(keys) != len(texts):
            msg = f"embed_texts got {len(keys)} keys for {len(texts)} texts; pass one key per text"
            raise FactoryError(msg)
        fp = embedder.fingerprint
        name = cache_table_name(fp)
        key_array = pa.array(keys, type=pa.string())
        cache = self._read_cache(name)
        if cache is not None:
            rows = pc.index_in(key_array, value_set=cache.column("content_hash"))
            cached_mask = rows.is_valid().to_numpy(zero_copy_only=False)
        else:
            rows = None
            cached_mask = np.zeros(len(keys), dtype=bool)
        missing_pos = np.flatnonzero(~cached_mask)
        first: dict[str, int] = {}
        for pos in missing_pos.tolist():
            first.setdefault(keys[pos], pos)
        new_keys = list(first)
        new_vectors = np.zeros((0, 0), dtype=np.float32)
        if new_keys:
            new_vectors = embedder.embed([texts[p] for p in first.values()], progress=progress)
            self._append(name, new_keys, new_vectors, embedder, cache)
        dim = _dimension(cache, new_vectors, embedder)
        out = np.empty((len(keys), dim), dtype=np.float32)
        if cache is not None and rows is not None and cached_mask.any():
            cached_pos = np.flatnonzero(cached_mask)
            row_index = rows.fill_null(0).to_numpy()[cached_pos]
            out[cached_pos] = _vectors(cache)[row_index]
        if missing_pos.size:
            wanted = key_array.take(pa.array(missing_pos))
            new_index = pc.index_in(wanted, value_set=pa.array(new_keys, type=pa.string()))
            out[missing_pos] = new_vectors[new_index.to_numpy(zero_copy_only=False)]
        stats = EmbedStats(
            total=len(keys),
            cached=int(cached_mask.sum()),
            embedded=len(new_keys),
            seconds=time.perf_counter() - start,
        )
        return out, stats

    def embed_documents(
        self, docs: pl.DataFrame, embedder: Embedder, progress: Progress | None = None
    ) -> tuple[pl.DataFrame, EmbedStats]:
        """The `document_embeddings` rows for `docs` (doc_id, text, split), using the cache."""
        missing = [c for c in ("doc_id", "text", "split") if c not in docs.columns]
        if missing:
            msg = f"documents lack columns {missing}; pass the corpus_documents table"
            raise SchemaError(msg)
        vectors, stats = self.embed_texts(
            docs["doc_id"].to_list(), docs["text"].to_list(), embedder, progress
        )
        table = pl.DataFrame(
            {
                "doc_id": docs["doc_id"],
                "split": docs["split"],
                "vector": pl.Series("vector", vectors, dtype=vector_dtype(vectors.shape[1])),
                "model_fingerprint": pl.repeat(embedder.fingerprint, len(docs), eager=True),
            }
        )
        return DOCUMENT_EMBEDDINGS.validate(table), stats

    def write_embeddings(self, df: pl.DataFrame) -> None:
        """Replace the `document_embeddings` table with `df` (validated against its schema)."""
        data = DOCUMENT_EMBEDDINGS.validate(df).to_arrow()
        if self._open(EMBEDDINGS_TABLE) is None:
            self.db.create_table(EMBEDDINGS_TABLE, data=data)
        else:
            self.db.create_table(EMBEDDINGS_TABLE, data=data, mode="overwrite")

    def read_embeddings(self) -> pl.DataFrame:
        """The `document_embeddings` table as a polars frame."""
        table = self._open(EMBEDDINGS_TABLE)
        if table is None:
            msg = (
                f"no {EMBEDDINGS_TABLE!r} table in {str(self.uri)!r}; materialize "
                "document_embeddings first"
            )
            raise FactoryError(msg)
        return DOCUMENT_EMBEDDINGS.validate(pl.DataFrame(table.to_arrow()))

    def cache_size(self, embedder: Embedder) -> int:
        """Rows cached for this embedder's fingerprint."""
        table = self._open(cache_table_name(embedder.fingerprint))
        return 0 if table is None else table.count_rows()

    def _open(self, name: str) -> Table | None:
        try:
            return self.db.open_table(name)
        except ValueError:
            return None

    def _read_cache(self, name: str) -> pa.Table | None:
        table = self._open(name)
        return None if table is None else table.to_arrow()

    def _append(
        self,
        name: str,
        keys: list[str],
        vectors: np.ndarray,
        embedder: Embedder,
        cache: pa.Table | None,
    ) -> None:
        import pyarrow as pa

        dim = vectors.shape[1]
        if cache is not None and _width(cache) != dim:
            msg = (
                f"cache table {name!r} holds {_width(cache)}-d vectors but the model gives {dim}-d "
                f"ones for the same fingerprint; delete {str(self.uri)!r}/{name}.lance"
            )
            raise BackendError(msg)
        vector = pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), dim)
        schema = pa.schema(
            [pa.field("content_hash", pa.string()), pa.field("vector", vector.type)],
            metadata={
                _FP_KEY: embedder.fingerprint.encode(),
                _INFO_KEY: json.dumps(embedder.fingerprint_info(), sort_keys=True).encode(),
            },
        )
        data = pa.table([pa.array(keys, type=pa.string()), vector], schema=schema)
        table = self._open(name)
        if table is None:
            try:
                self.db.create_table(name, data=data)
                return
            except (OSError, ValueError):  # another writer created it first
                table = self.db.open_table(name)
        table.add(data)

    def __repr__(self) -> str:
        return f"EmbeddingStore(uri={str(self.uri)!r})"


def _width(cache: pa.Table) -> int:
    return int(cache.schema.field("vector").type.list_size)


def _vectors(cache: pa.Table) -> np.ndarray:
    """The cache's vector column as a (rows, d) float32 array."""
    column = cache.column("vector").combine_chunks()
    return column.flatten().to_numpy().reshape(-1, _width(cache))


def _dimension(cache: pa.Table | None, new_vectors: np.ndarray, embedder: Embedder) -> int:
    if cache is not None:
        return _width(cache)
    if new_vectors.shape[0]:
        return int(new_vectors.shape[1])
    return embedder.dimension
