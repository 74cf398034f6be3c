"""What samples are judged against: the corpus's train split, its vectors, and the models used.

`QualityReference` holds the train rows (texts, labels, groups, vectors), sorted by `doc_id`;
`QualityTools` loads the embedder, the reference LM and the label classifier lazily, once.
Both are built from the pipeline's tables (`reference_from_tables`) or from any corpus file
(`checks.external`).

Example:
    >>> texts, vectors = corpus_reference(corpus_documents, document_embeddings)  # doctest: +SKIP
    >>> vectors.shape  # doctest: +SKIP
    (8000, 384)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from factory.errors import SchemaError
from factory.home import Home

if TYPE_CHECKING:
    from factory.config import ChecksConfig, FactoryConfig
    from factory.embedding import Embedder

__all__ = ["QualityReference", "QualityTools", "corpus_reference", "reference_from_tables"]


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
    joined = _joined(documents, embeddings, splits, model_fingerprint)
    if joined.height == 0:
        return [], np.zeros((0, 0), dtype=np.float32)
    return joined["text"].to_list(), _matrix(joined)


@dataclass(frozen=True)
class QualityReference:
    """The train rows samples are judged against, sorted by `doc_id`; vectors shape (m, d).

    `groups` is each row's label, or its cluster as "cluster <id>" for unlabelled corpora (None:
    noise or unknown); `cluster_of` maps doc_id to that group for samples' parents.
    """

    doc_ids: list[str]
    texts: list[str]
    labels: list[str | None]
    groups: list[str | None]
    vectors: np.ndarray = field(repr=False)
    embedder_fingerprint: str | None = None
    target_mix: str | dict[str, float] | None = None

    def __post_init__(self) -> None:
        m = len(self.doc_ids)
        sizes = {len(self.texts), len(self.labels), len(self.groups), int(self.vectors.shape[0])}
        if sizes != {m}:
            msg = (
                f"reference columns differ in length: {m} doc_ids, {len(self.texts)} texts, "
                f"{len(self.labels)} labels, {len(self.groups)} groups, "
                f"{self.vectors.shape[0]} vectors; build it from one aligned frame"
            )
            raise SchemaError(msg)

    @property
    def size(self) -> int:
        """Number of train rows."""
        return len(self.doc_ids)

    @property
    def labelled(self) -> bool:
        """True when at least two train rows carry labels."""
        return sum(label is not None for label in self.labels) >= 2

    def group_of(self, doc_id: str) -> str | None:
        """The group of train document `doc_id` (None when unknown)."""
        row = self._doc_index.get(doc_id)
        return None if row is None else self.groups[row]

    @cached_property
    def _doc_index(self) -> dict[str, int]:
        return {d: i for i, d in enumerate(self.doc_ids)}

    def subset_rows(self, limit: int) -> np.ndarray:
        """Indices of the first `limit` rows (rows are in doc_id, i.e. content-hash, order)."""
        return np.arange(min(limit, self.size))

    def subset_languages(self, limit: int) -> list[str | None]:
        """The detected language of each of the first `limit` rows (detected once per limit)."""
        from checks.language import detect_languages

        if limit not in self._languages:
            self._languages[limit] = detect_languages(
                [self.texts[i] for i in self.subset_rows(limit)]
            )
        return self._languages[limit]

    def expected_language(self, config: ChecksConfig) -> str | None:
        """`checks.language`, else the dominant language of the first `checks.reference_rows`
        rows: the one language both the row filter and the set check hold samples to."""
        from checks.language import dominant_language

        if config.language:
            return config.language
        return dominant_language(self.subset_languages(config.reference_rows))

    @cached_property
    def _languages(self) -> dict[int, list[str | None]]:
        return {}


def reference_from_tables(
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    semantic_map: pl.DataFrame | None = None,
    *,
    model_fingerprint: str | None = None,
    target_mix: str | dict[str, float] | None = None,
) -> QualityReference:
    """The train split of the pipeline's tables as a `QualityReference`."""
    joined = _joined(corpus_documents, document_embeddings, ("train",), model_fingerprint)
    labels = joined["label"].to_list() if "label" in joined.columns else [None] * joined.height
    labels = [None if v is None else str(v) for v in labels]
    if sum(v is not None for v in labels) >= 2:
        groups: list[str | None] = list(labels)
    elif semantic_map is not None and "cluster_id" in semantic_map.columns:
        clusters = joined.select("doc_id").join(
            semantic_map.select("doc_id", "cluster_id"), on="doc_id", how="left"
        )["cluster_id"]
        groups = [None if c is None or c < 0 else f"cluster {c}" for c in clusters.to_list()]
    else:
        groups = [None] * joined.height
    dtype = document_embeddings.schema.get("vector")
    width = int(getattr(dtype, "size", 0) or 0)
    return QualityReference(
        doc_ids=joined["doc_id"].to_list(),
        texts=joined["text"].to_list(),
        labels=labels,
        groups=groups,
        vectors=_matrix(joined) if joined.height else np.zeros((0, width), np.float32),
        embedder_fingerprint=model_fingerprint,
        target_mix=target_mix,
    )


class QualityTools:
    """The models the checks use, each loaded on first use: embedder, reference LM, classifier."""

    def __init__(
        self,
        embedder: Embedder,
        reference_lm_path: Path | None = None,
        cache_dir: Path | None = None,
        fluency_max_tokens: int = 128,
    ) -> None:
        self.embedder = embedder
        self.reference_lm_path = reference_lm_path
        self.cache_dir = cache_dir
        self.fluency_max_tokens = fluency_max_tokens
        self.progress: Callable[[int, int], None] | None = None
        """Follows reference-LM scoring (done, total), e.g. a console bar; None: tqdm."""
        self._lm: Any = None

    @classmethod
    def from_config(cls, config: FactoryConfig, embedder: Embedder) -> QualityTools:
        """The tools a project's config names; caches in `<home>/cache`."""
        checks = config.checks
        lm = config.resolve(checks.reference_lm) if checks.reference_lm else None
        return cls(embedder, lm, Home.of(config).cache, checks.fluency_max_tokens)

    @property
    def reference_lm(self) -> Any:
        """The in-process llama.cpp reference LM (`checks.fluency.ReferenceLM`)."""
        if self._lm is None:
            from checks.fluency import shared_reference_lm

            cache = self.cache_dir / "perplexity.sqlite" if self.cache_dir else None
            self._lm = shared_reference_lm(
                self.reference_lm_path, cache, max_tokens=self.fluency_max_tokens
            )
        return self._lm

    def perplexities(self, texts: Sequence[str | None]) -> np.ndarray:
        """Per text its perplexity under the reference LM; shape (n,), NaN where undefined."""
        values = self.reference_lm.perplexities(list(texts), progress=self.progress)
        return np.asarray(values, dtype=np.float64)

    def embed(self, texts: Sequence[str | None]) -> np.ndarray:
        """Unit vectors of `texts` (None embedded as ""); shape (n, d)."""
        return np.asarray(
            self.embedder.embed(["" if t is None else t for t in texts]), dtype=np.float32
        )

    def label_verifier(self, vectors: np.ndarray, labels: list[str | None]) -> Any:
        """A `LabelVerifier` fitted once per (vectors, labels)."""
        from factory.synthesis.verify import shared_verifier

        return shared_verifier(vectors, labels)


def _joined(
    documents: pl.DataFrame,
    embeddings: pl.DataFrame,
    splits: Sequence[str],
    model_fingerprint: str | None,
) -> pl.DataFrame:
    if model_fingerprint is not None and embeddings.height:
        found = sorted(set(embeddings["model_fingerprint"].to_list()))
        if found != [model_fingerprint]:
            msg = (
                f"document_embeddings were made by model fingerprint(s) {found}, but the samples "
                f"are embedded with {model_fingerprint!r}; rematerialize document_embeddings with "
                "the configured embedding model"
            )
            raise SchemaError(msg)
    columns = [c for c in ("doc_id", "text", "label") if c in documents.columns]
    docs = documents.filter(pl.col("split").is_in(list(splits))).select(columns)
    vectors = embeddings.select("doc_id", "vector").unique("doc_id", keep="first")
    joined = docs.join(vectors, on="doc_id", how="left").sort("doc_id")
    missing = joined.filter(pl.col("vector").is_null())
    if missing.height:
        msg = (
            f"{missing.height} of {joined.height} corpus documents in splits {list(splits)} have "
            f"no embedding (first: {missing['doc_id'][0]!r}); rematerialize document_embeddings"
        )
        raise SchemaError(msg)
    return joined


def _matrix(joined: pl.DataFrame) -> np.ndarray:
    matrix = np.asarray(joined["vector"].to_numpy(), dtype=np.float32)
    return matrix.reshape(joined.height, -1)
