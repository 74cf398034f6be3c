"""Embedding layer: backends, the registry and the LanceDB store with its cache.

Example:
    >>> from factory.config import EmbeddingConfig
    >>> embedder = create_embedder(EmbeddingConfig())
    >>> embedder.name
    'all-MiniLM-L6-v2'
"""

from __future__ import annotations

from factory.embedding.base import Embedder
from factory.embedding.openai_compat import OpenAIEmbedder
from factory.embedding.registry import EMBEDDERS, create_embedder, shared_embedder
from factory.embedding.sentence_transformers import SentenceTransformerEmbedder
from factory.embedding.store import EmbeddingStore

__all__ = [
    "EMBEDDERS",
    "Embedder",
    "EmbeddingStore",
    "OpenAIEmbedder",
    "SentenceTransformerEmbedder",
    "create_embedder",
    "shared_embedder",
]
