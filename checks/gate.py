"""One call per check family on the pipeline's own tables: embed what is needed, then run the suite.

Only `diversity` needs vectors, so only it loads the embedding model; `coherence` reads the
samples' recorded cosines and `bias` reads texts. The reference is the corpus's `train` split.

Example:
    >>> outcome = check_samples("bias", synthetic_samples, corpus_documents,
    ...                         document_embeddings, load_config())  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from checks.reference import corpus_reference
from checks.suites import FAMILIES, CheckOutcome, run_family
from factory.config import FactoryConfig
from factory.errors import ConfigError

if TYPE_CHECKING:
    from factory.embedding import Embedder

__all__ = ["REFERENCE_SPLITS", "VECTOR_FAMILIES", "check_samples"]

REFERENCE_SPLITS = ("train",)
VECTOR_FAMILIES = frozenset({"diversity"})


def check_samples(
    family: str,
    samples: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    config: FactoryConfig,
    embedder: Embedder | None = None,
) -> CheckOutcome:
    """Run check `family` on `samples` against the train split; embeds samples only if needed."""
    if family not in FAMILIES:
        msg = f"unknown check family {family!r}; expected one of {list(FAMILIES)}"
        raise ConfigError(msg)
    texts = ["" if t is None else t for t in samples["text"].to_list()]
    if family in VECTOR_FAMILIES:
        if embedder is None:
            from factory.embedding import shared_embedder

            embedder = shared_embedder(config.embedding)
        corpus_texts, corpus_vectors = corpus_reference(
            corpus_documents, document_embeddings, REFERENCE_SPLITS, embedder.fingerprint
        )
        sample_vectors = embedder.embed(texts)
    else:
        reference = corpus_documents.filter(pl.col("split").is_in(list(REFERENCE_SPLITS)))
        corpus_texts = reference.sort("doc_id")["text"].to_list()
        corpus_vectors = np.zeros((0, 0), dtype=np.float32)
        sample_vectors = np.zeros((samples.height, 0), dtype=np.float32)
    return run_family(family, samples, sample_vectors, corpus_texts, corpus_vectors, config.checks)
