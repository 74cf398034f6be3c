"""A planted corpus for the map tests: six tight blobs, one thin cloud and a few junk points."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from factory.hashing import content_hash

BLOB_WORDS = ("anchor", "bridge", "canyon", "desert", "engine", "forest")
BLOB_SIZE, THIN_SIZE, JUNK_SIZE, DIM = 120, 40, 8, 32
THIN, JUNK = 6, 7


@dataclass(frozen=True)
class Planted:
    """Documents with their true group: 0-5 blobs, 6 the thin cloud, 7 junk."""

    doc_ids: list[str]
    splits: list[str]
    vectors: np.ndarray
    texts: list[str]
    groups: np.ndarray


def make_planted(seed: int = 0) -> Planted:
    """Unit vectors in 32-d: 6 blobs of 120, a sparse cloud of 40, 8 random junk points."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(7, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    parts = [centers[b] + rng.normal(scale=0.04, size=(BLOB_SIZE, DIM)) for b in range(6)]
    parts.append(centers[THIN] + rng.normal(scale=0.12, size=(THIN_SIZE, DIM)))
    parts.append(rng.normal(size=(JUNK_SIZE, DIM)))
    vectors = np.vstack(parts).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = np.repeat(np.arange(8), [BLOB_SIZE] * 6 + [THIN_SIZE, JUNK_SIZE])
    words = [*BLOB_WORDS, "sparse", "junk"]
    texts = [f"{words[g]} report {words[g]} number {i}" for i, g in enumerate(groups)]
    doc_ids = [content_hash(t) for t in texts]
    splits = ["validation" if i % 5 == 0 else "train" for i in range(len(texts))]
    return Planted(doc_ids, splits, vectors, texts, groups)
