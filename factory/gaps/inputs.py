"""Reading the gap finders' outside inputs: a reference sample and per-example evaluation results.

Example:
    >>> reference, version = coverage_reference(config, smap, vectors, fps)  # doctest: +SKIP
    >>> texts = reference_texts(config.gaps.reference_source, config)  # doctest: +SKIP
    >>> results = read_evaluation(config.resolve("eval.parquet"))  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.normalize import normalize_text
from factory.corpus.readers import read_source
from factory.errors import ConfigError, FactoryError, SourceError
from factory.gaps.find import Reference
from factory.hashing import content_hash, fingerprint
from factory.home import Home

if TYPE_CHECKING:
    from factory.embedding import Embedder

__all__ = ["coverage_reference", "read_evaluation", "reference_texts"]

_TRUE = {"true", "1", "yes", "correct"}
_FALSE = {"false", "0", "no", "wrong", "incorrect"}


def reference_texts(source: SourceConfig | None, config: FactoryConfig) -> list[str]:
    """Distinct normalized texts of the reference source, in first-seen order."""
    if source is None:
        msg = "gaps.reference is 'source' but gaps.reference_source is unset; describe the source"
        raise ConfigError(msg)
    seen: dict[str, None] = {}
    for record in read_source(source, config):
        if record.reason is not None:
            continue
        text = normalize_text(str(record.fields.get(source.text_field) or ""))
        if text:
            seen.setdefault(text, None)
    if not seen:
        msg = f"reference source {source.id!r} holds no readable text; check path and text_field"
        raise SourceError(msg)
    return list(seen)


def read_evaluation(path: Path) -> pl.DataFrame:
    """A (doc_id, correct) frame from a Parquet, CSV or JSONL file of per-example results."""
    if not path.is_file():
        msg = f"evaluation results {str(path)!r} do not exist; fix gaps.evaluation_path"
        raise SourceError(msg)
    suffix = path.suffix.lower()
    readers = {".parquet": pl.read_parquet, ".csv": pl.read_csv, ".jsonl": pl.read_ndjson}
    if suffix not in readers:
        msg = f"evaluation results {str(path)!r}: unknown format; expected one of {sorted(readers)}"
        raise SourceError(msg)
    frame = readers[suffix](path)
    missing = sorted({"doc_id", "correct"} - set(frame.columns))
    if missing:
        msg = f"evaluation results {str(path)!r} miss columns {missing}; give doc_id and correct"
        raise SourceError(msg)
    correct = frame["correct"]
    if correct.null_count():
        msg = f"evaluation results {str(path)!r}: {correct.null_count()} empty `correct` values"
        raise SourceError(msg)
    if correct.dtype != pl.Boolean:
        words = correct.cast(pl.String).str.to_lowercase()
        bad = sorted(set(words.to_list()) - _TRUE - _FALSE, key=str)
        if bad:
            msg = (
                f"evaluation results {str(path)!r}: `correct` values {bad[:5]} are not booleans; "
                f"use one of {sorted(_TRUE | _FALSE)}"
            )
            raise SourceError(msg)
        correct = words.is_in(sorted(_TRUE))
    return pl.DataFrame({"doc_id": frame["doc_id"].cast(pl.String), "correct": correct})


def coverage_reference(
    config: FactoryConfig,
    semantic_map: pl.DataFrame,
    vectors: np.ndarray,
    model_fingerprints: list[str],
    embedder: Embedder | None = None,
) -> tuple[Reference | None, str]:
    """The coverage reference named by `gaps.reference` and a fingerprint of its ids.

    `none` gives no reference; `validation` the map's validation rows (`vectors` is aligned with
    `semantic_map`); `source` the texts of `gaps.reference_source`, embedded (through the
    project's embedding cache) with `embedder` (default: the configured one), which must be the
    model that embedded the corpus (`model_fingerprints`).
    """
    from factory.embedding import EmbeddingStore, shared_embedder

    choice = config.gaps.reference
    if choice == "none":
        return None, "no-reference"
    if choice == "validation":
        rows = np.nonzero(semantic_map["split"].to_numpy() == "validation")[0]
        ids = [semantic_map["doc_id"][int(i)] for i in rows]
        return Reference(ids=ids, vectors=vectors[rows]), fingerprint("validation", sorted(ids))
    texts = reference_texts(config.gaps.reference_source, config)
    ids = [content_hash(t) for t in texts]
    embedder = embedder or shared_embedder(config.embedding)
    used = sorted(set(model_fingerprints))
    if used and used != [embedder.fingerprint]:
        msg = (
            f"the corpus was embedded with {used} but the reference would be embedded with "
            f"{embedder.fingerprint!r}; rematerialize document_embeddings with this embedding"
        )
        raise FactoryError(msg)
    store = EmbeddingStore(Home.of(config).lancedb)
    ref_vectors, _ = store.embed_texts(ids, texts, embedder)
    return Reference(ids=ids, vectors=ref_vectors), fingerprint("source", sorted(ids))
