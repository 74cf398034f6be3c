"""The embedder backend: one abstract batch method, conveniences on the base.

Example:
    >>> vectors = embedder.embed(["a text", "another"])  # doctest: +SKIP
    >>> vectors.shape  # doctest: +SKIP
    (2, 384)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from factory.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from factory.config import EmbeddingConfig

__all__ = ["Embedder", "Progress", "check_batch_size", "normalize_rows"]

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)` after each chunk of texts."""


class Embedder(ABC):
    """A text embedding model: texts in, L2-normalized float32 rows out."""

    batch_size: int = 64

    @classmethod
    @abstractmethod
    def from_config(cls, cfg: EmbeddingConfig) -> Self:
        """Build from the `embedding:` section of the config."""

    @property
    @abstractmethod
    def name(self) -> str:
        """Model name or id, for people."""

    @property
    @abstractmethod
    def dimension(self) -> int:
        """Width d of the vectors."""

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """Content-derived id of the model; equal fingerprints give equal vectors."""

    @abstractmethod
    def embed_batch(self, texts: list[str]) -> np.ndarray:
        """Embed one batch; shape (n, d), float32, rows of unit length."""

    def fingerprint_info(self) -> dict[str, Any]:
        """What the fingerprint is made of: kind, model, weights hash or endpoint, verifiability."""
        return {
            "kind": type(self).__name__,
            "model": self.name,
            "fingerprint": self.fingerprint,
            "weights_verifiable": False,
        }

    def embed(
        self,
        texts: Sequence[str],
        batch_size: int | None = None,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """Embed `texts` in batches; shape (n, d), float32, rows of unit length."""
        size = check_batch_size(batch_size or self.batch_size)
        return self._embed_in_chunks(list(texts), size, self.embed_batch, progress)

    def _embed_in_chunks(
        self,
        texts: list[str],
        chunk: int,
        fn: Callable[[list[str]], np.ndarray],
        progress: Progress | None,
    ) -> np.ndarray:
        """Call `fn` on chunks of `texts`, report progress and stack the rows in order."""
        total = len(texts)
        if total == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = []
        for start in range(0, total, chunk):
            part = texts[start : start + chunk]
            parts.append(_check_rows(fn(part), len(part), self.name))
            if progress is not None:
                progress(start + len(part), total)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


def normalize_rows(rows: np.ndarray) -> np.ndarray:
    """Scale each row to unit L2 norm; float32; raises on an all-zero row."""
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    zero = np.flatnonzero(norms[:, 0] == 0)
    if zero.size:
        msg = (
            f"the model returned an all-zero vector for {zero.size} input(s) (first at index "
            f"{int(zero[0])}); such a text cannot be embedded: check that it is not empty"
        )
        raise BackendError(msg)
    return rows / norms


def check_batch_size(size: int) -> int:
    """Return `size`, or raise `ConfigError` when it is below 1."""
    if size < 1:
        msg = f"batch_size must be at least 1, got {size}; set embedding.batch_size to e.g. 64"
        raise ConfigError(msg)
    return size


def _check_rows(rows: np.ndarray, n: int, name: str) -> np.ndarray:
    if rows.ndim != 2 or rows.shape[0] != n:
        msg = f"embedder {name!r} returned shape {rows.shape} for {n} texts; expected ({n}, d)"
        raise BackendError(msg)
    return rows if rows.dtype == np.float32 else rows.astype(np.float32)
