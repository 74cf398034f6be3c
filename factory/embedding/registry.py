"""Embedder backends by name, from an explicit registry.

Example:
    >>> sorted(EMBEDDERS)
    ['openai', 'sentence-transformers']
"""

from __future__ import annotations

from factory.config import EmbeddingConfig
from factory.embedding.base import Embedder
from factory.embedding.openai_compat import OpenAIEmbedder
from factory.embedding.sentence_transformers import SentenceTransformerEmbedder
from factory.endpoints import KEEP_CREDENTIALS
from factory.errors import ConfigError

__all__ = ["EMBEDDERS", "create_embedder", "shared_embedder"]

_SHARED: dict[str, Embedder] = {}

EMBEDDERS: dict[str, type[Embedder]] = {
    "openai": OpenAIEmbedder,
    "sentence-transformers": SentenceTransformerEmbedder,
}


def create_embedder(cfg: EmbeddingConfig) -> Embedder:
    """Build the embedder that `cfg.backend` names; nothing is loaded until first use."""
    if cfg.backend not in EMBEDDERS:
        msg = f"unknown embedder {cfg.backend!r}; expected one of {sorted(EMBEDDERS)}"
        raise ConfigError(msg)
    return EMBEDDERS[cfg.backend].from_config(cfg)


def shared_embedder(cfg: EmbeddingConfig) -> Embedder:
    """The process's one embedder for `cfg`: layers of a run share the loaded model.

    Embedders hold no per-call state, so the synthesis step, the checks and the release reuse
    the model the embeddings step loaded instead of loading and hashing it again.
    """
    # endpoints that differ only in their credentials are different embedders
    key = cfg.model_dump_json(context={KEEP_CREDENTIALS: True})
    if key not in _SHARED:
        _SHARED[key] = create_embedder(cfg)
    return _SHARED[key]
