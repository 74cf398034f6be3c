"""Embedding layer: backends, the registry and the LanceDB store with its cache.

Example:
    >>> from factory.config import EmbeddingConfig
    >>> embedder = create_embedder(EmbeddingConfig())
    >>> embedder.name
    'all-MiniLM-L6-v2'
"""

from __future__ import annotations

from factory.embedding.base import Embedder, Progress, normalize_rows
from factory.embedding.openai_compat import OpenAIEmbedder, check_endpoint, is_loopback
from factory.embedding.registry import EMBEDDERS, create_embedder, shared_embedder
from factory.embedding.sentence_transformers import SentenceTransformerEmbedder, resolve_device
from factory.embedding.store import EMBEDDINGS_TABLE, EmbeddingStore, EmbedStats, cache_table_name

__all__ = [
    "EMBEDDERS",
    "EMBEDDINGS_TABLE",
    "EmbedStats",
    "Embedder",
    "EmbeddingStore",
    "OpenAIEmbedder",
    "Progress",
    "SentenceTransformerEmbedder",
    "cache_table_name",
    "check_endpoint",
    "create_embedder",
    "is_loopback",
    "normalize_rows",
    "resolve_device",
    "shared_embedder",
]
