"""The corpus reference samples are judged against: texts and vectors of chosen splits, aligned.

Example:
    >>> texts, vectors = corpus_reference(corpus_documents, document_embeddings)  # doctest: +SKIP
    >>> vectors.shape  # doctest: +SKIP
    (8000, 384)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from factory.errors import SchemaError

__all__ = ["corpus_reference"]


def corpus_reference(
    documents: pl.DataFrame,
    embeddings: pl.DataFrame,
    splits: Sequence[str] = ("train",),
    model_fingerprint: str | None = None,
) -> tuple[list[str], np.ndarray]:
    """Texts and vectors of the documents in `splits`, sorted by `doc_id`; vectors shape (m, d).

    Raises `SchemaError` when a document has no vector, or when the vectors were made by another
    model than `model_fingerprint` (their cosines with new vectors would mean nothing).
    """
    if model_fingerprint is not None and embeddings.height:
        found = sorted(set(embeddings["model_fingerprint"].to_list()))
        if found != [model_fingerprint]:
            msg = (
                f"document_embeddings were made by model fingerprint(s) {found}, but the samples "
                f"are embedded with {model_fingerprint!r}; rematerialize document_embeddings with "
                "the configured embedding model"
            )
            raise SchemaError(msg)
    docs = documents.filter(pl.col("split").is_in(list(splits))).select("doc_id", "text")
    vectors = embeddings.select("doc_id", "vector").unique("doc_id", keep="first")
    joined = docs.join(vectors, on="doc_id", how="left").sort("doc_id")
    missing = joined.filter(pl.col("vector").is_null())
    if missing.height:
        msg = (
            f"{missing.height} of {joined.height} corpus documents in splits {list(splits)} have "
            f"no embedding (first: {missing['doc_id'][0]!r}); rematerialize document_embeddings"
        )
        raise SchemaError(msg)
    if joined.height == 0:
        return [], np.zeros((0, 0), dtype=np.float32)
    matrix = np.asarray(joined["vector"].to_numpy(), dtype=np.float32)
    return joined["text"].to_list(), matrix.reshape(joined.height, -1)
