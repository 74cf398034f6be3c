"""The LanceDB store: incremental cache, model switch, table round-trip."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import EmbeddingConfig
from factory.embedding import Embedder, EmbeddingStore
from factory.embedding.store import cache_table_name
from factory.errors import FactoryError, SchemaError
from factory.hashing import content_hash
from factory.schemas import DOCUMENT_EMBEDDINGS


class CountingEmbedder(Embedder):
    """Deterministic fake (unit tests only): a vector seeded by the text's hash; counts texts."""

    def __init__(self, seed: str = "fake-a", dim: int = 8) -> None:
        self.seed = seed
        self.dim = dim
        self.embedded: list[str] = []

    @classmethod
    def from_config(cls, cfg: EmbeddingConfig) -> CountingEmbedder:
        return cls(cfg.model)

    @property
    def name(self) -> str:
        return self.seed

    @property
    def dimension(self) -> int:
        return self.dim

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.seed}:{self.dim}".encode()).hexdigest()

    def embed_batch(self, texts: list[str]) -> np.ndarray:
        self.embedded.extend(texts)
        rows = []
        for text in texts:
            digest = hashlib.sha256(f"{self.seed}|{text}".encode()).digest()
            rows.append(np.random.default_rng(list(digest)).standard_normal(self.dim))
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _docs(texts: list[str]) -> pl.DataFrame:
    splits = ["train", "validation", "test"]
    return pl.DataFrame(
        {
            "doc_id": [content_hash(t) for t in texts],
            "text": texts,
            "split": [splits[i % 3] for i in range(len(texts))],
        },
        schema={"doc_id": pl.String, "text": pl.String, "split": pl.String},
    )


@pytest.fixture
def store(tmp_path: Path) -> EmbeddingStore:
    return EmbeddingStore(tmp_path / "vectors")


@pytest.fixture
def texts(banking77_texts: list[str]) -> list[str]:
    return list(dict.fromkeys(banking77_texts))[:105]


def test_incremental_embeds_only_new_texts(store: EmbeddingStore, texts: list[str]) -> None:
    fake = CountingEmbedder()
    first, stats = store.embed_documents(_docs(texts[:100]), fake)
    assert (stats.total, stats.cached, stats.embedded) == (100, 0, 100)
    fake.embedded.clear()
    second, stats = store.embed_documents(_docs(texts), fake)
    assert (stats.total, stats.cached, stats.embedded) == (105, 100, 5)
    assert fake.embedded == texts[100:]
    assert second["doc_id"].to_list() == [content_hash(t) for t in texts]
    np.testing.assert_array_equal(second["vector"].to_numpy()[:100], first["vector"].to_numpy())
    assert store.cache_size(fake) == 105


def test_vectors_come_back_in_input_order_with_duplicates(
    store: EmbeddingStore, texts: list[str]
) -> None:
    fake = CountingEmbedder()
    store.embed_texts([content_hash(t) for t in texts[:10]], texts[:10], fake)
    fake.embedded.clear()
    batch = [texts[12], texts[3], texts[12], texts[0], texts[11], texts[3]]
    vectors, stats = store.embed_texts([content_hash(t) for t in batch], batch, fake)
    assert fake.embedded == [texts[12], texts[11]]  # each new text once
    assert (stats.total, stats.cached, stats.embedded) == (6, 3, 2)
    np.testing.assert_allclose(vectors, fake.embed_batch(batch), atol=1e-7)


def test_nothing_new_embeds_nothing(store: EmbeddingStore, texts: list[str]) -> None:
    fake = CountingEmbedder()
    store.embed_documents(_docs(texts[:20]), fake)
    fake.embedded.clear()
    _, stats = store.embed_documents(_docs(texts[:20]), fake)
    assert (stats.cached, stats.embedded) == (20, 0)
    assert fake.embedded == []


def test_another_model_reembeds_everything(store: EmbeddingStore, texts: list[str]) -> None:
    a, b = CountingEmbedder("fake-a"), CountingEmbedder("fake-b")
    table_a, _ = store.embed_documents(_docs(texts[:30]), a)
    table_b, stats = store.embed_documents(_docs(texts[:30]), b)
    assert (stats.cached, stats.embedded) == (0, 30)
    assert b.embedded == texts[:30]
    assert table_a["model_fingerprint"].unique().to_list() == [a.fingerprint]
    assert table_b["model_fingerprint"].unique().to_list() == [b.fingerprint]
    assert cache_table_name(a.fingerprint) != cache_table_name(b.fingerprint)
    a.embedded.clear()
    _, stats = store.embed_documents(_docs(texts[:30]), a)
    assert (stats.cached, stats.embedded, a.embedded) == (30, 0, [])


def test_real_model_cache_matches_fresh_vectors(
    store: EmbeddingStore, minilm: Embedder, texts: list[str]
) -> None:
    store.embed_documents(_docs(texts[:40]), minilm)
    table, stats = store.embed_documents(_docs(texts[:50]), minilm)
    assert (stats.cached, stats.embedded) == (40, 10)
    vectors = np.stack(table["vector"].to_numpy())
    fresh = minilm.embed(texts[:50])
    assert vectors.shape == (50, 384)
    np.testing.assert_allclose(vectors, fresh, atol=1e-5)


def test_table_round_trip_overwrites(store: EmbeddingStore, texts: list[str]) -> None:
    fake = CountingEmbedder()
    table, _ = store.embed_documents(_docs(texts[:12]), fake)
    assert table.columns == DOCUMENT_EMBEDDINGS.column_names
    store.write_embeddings(table)
    assert store.read_embeddings().equals(table)
    store.write_embeddings(table.head(4))
    assert store.read_embeddings().equals(table.head(4))


def test_write_rejects_a_table_off_schema(store: EmbeddingStore, texts: list[str]) -> None:
    table, _ = store.embed_documents(_docs(texts[:3]), CountingEmbedder())
    with pytest.raises(SchemaError, match="missing columns \\['split'\\]"):
        store.write_embeddings(table.drop("split"))


def test_read_before_write_says_what_to_do(store: EmbeddingStore) -> None:
    with pytest.raises(FactoryError, match="materialize document_embeddings first"):
        store.read_embeddings()


def test_documents_need_their_columns(store: EmbeddingStore) -> None:
    with pytest.raises(SchemaError, match="lack columns \\['split'\\]"):
        store.embed_documents(pl.DataFrame({"doc_id": ["x"], "text": ["x"]}), CountingEmbedder())


def test_empty_documents(store: EmbeddingStore) -> None:
    table, stats = store.embed_documents(_docs([]), CountingEmbedder())
    assert table.height == 0
    assert table.schema["vector"] == pl.Array(pl.Float32, 8)
    assert (stats.total, stats.embedded) == (0, 0)
