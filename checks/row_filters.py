"""Row filters for synthetic samples: each rejected row gets one reason.

Filters run in this order and the first that fires names the reason (`category: details`):
`empty`, `too_short`, `too_long`, `meta_talk` (the teacher talking about the task instead of
doing it: `factory.synthesis.meta_talk`), `off_target`, `language` (when the expected language is
given: a text detected in another one), `pii`, `contamination`, `corpus_copy`, `duplicate`.
Duplicates are judged against samples accepted earlier in `sample_id` order, so the result is
deterministic.
With `checks.pii_action: redact`, personal data is replaced in the text (`[EMAIL]`, ...) instead
of rejecting the row (`redact_samples`).

Example:
    >>> accepted, rejects = filter_samples(samples, vectors, corpus_vectors, corpus_texts,
    ...                                    ChecksConfig())  # doctest: +SKIP
    >>> rejects["reason"].str.split(":").list.first().value_counts()  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from checks.metrics import max_similarity_to, unit_rows
from factory.config import ChecksConfig
from factory.corpus.normalize import text_key
from factory.errors import SchemaError
from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
from factory.synthesis.meta_talk import meta_talk

if TYPE_CHECKING:
    from checks.contamination import EvalSet

__all__ = [
    "REJECT_CATEGORIES",
    "filter_samples",
    "redact_samples",
    "rejection_reasons",
    "screening_reasons",
]

REJECT_CATEGORIES = (
    "empty",
    "too_short",
    "too_long",
    "meta_talk",
    "off_target",
    "language",
    "pii",
    "contamination",
    "corpus_copy",
    "duplicate",
)
_BLOCK = 512


def rejection_reasons(
    samples: pl.DataFrame,
    sample_vectors: np.ndarray,
    corpus_vectors: np.ndarray,
    corpus_texts: Iterable[str],
    config: ChecksConfig,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]] = (),
    language: str | None = None,
) -> list[str | None]:
    """Per row of `samples` (in its order), the reason it is rejected, or None when accepted.

    `eval_sets` are the declared evaluation sets with their vectors, shape (m, d) each;
    `language` the expected language code (None: no language filter).
    """
    vectors = _check_vectors(samples, sample_vectors)
    texts: list[str | None] = samples["text"].to_list()
    achieved: list[float | None] = samples["achieved_cosine"].to_list()
    reasons: list[str | None] = [
        _text_reason(t, c, config) for t, c in zip(texts, achieved, strict=True)
    ]
    if language is not None:
        reasons = _language_reasons(texts, reasons, language)
    screened = screening_reasons(
        texts, vectors, eval_sets, config, pii=config.pii_action == "filter", skip=reasons
    )
    reasons = [r if r is not None else found for r, found in zip(reasons, screened, strict=True)]

    corpus_keys = {text_key(t) for t in corpus_texts if t}
    live = [i for i, r in enumerate(reasons) if r is None]
    corpus_sim = max_similarity_to(corpus_vectors, vectors[live]) if live else np.zeros(0)
    for i, sim in zip(live, corpus_sim, strict=True):
        if text_key(texts[i] or "") in corpus_keys:
            reasons[i] = "corpus_copy: same normalized text as a corpus document"
        elif sim >= config.duplicate_cosine:
            reasons[i] = (
                f"corpus_copy: cosine {sim:.3f} to a corpus document >= duplicate_cosine "
                f"{config.duplicate_cosine}"
            )

    ids: list[str] = samples["sample_id"].to_list()
    order = sorted((i for i, r in enumerate(reasons) if r is None), key=lambda i: ids[i])
    for i, reason in _duplicate_reasons(order, ids, texts, vectors, config.duplicate_cosine):
        reasons[i] = reason
    return reasons


def filter_samples(
    samples: pl.DataFrame,
    sample_vectors: np.ndarray,
    corpus_vectors: np.ndarray,
    corpus_texts: list[str] | set[str],
    config: ChecksConfig,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]] = (),
    language: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split `samples` into (accepted, rejects), both sorted by `sample_id`.

    `sample_vectors` is aligned with the rows of `samples`, shape (n, d). The accepted frame has
    the SYNTHETIC_SAMPLES columns, the rejects frame those plus `reason`. With
    `config.pii_action == "redact"` personal data is redacted first, and rows are kept.
    """
    samples = SYNTHETIC_SAMPLES.validate(samples)
    if config.pii_action == "redact":
        samples = redact_samples(samples)
    reasons = rejection_reasons(
        samples, sample_vectors, corpus_vectors, corpus_texts, config, eval_sets, language
    )
    tagged = samples.with_columns(pl.Series("reason", reasons, dtype=pl.String)).sort(
        "sample_id", maintain_order=True
    )
    accepted = tagged.filter(pl.col("reason").is_null()).drop("reason")
    rejects = tagged.filter(pl.col("reason").is_not_null())
    return SYNTHETIC_SAMPLES.validate(accepted), SYNTHETIC_REJECTS.validate(rejects)


def _language_reasons(
    texts: Sequence[str | None], reasons: list[str | None], language: str
) -> list[str | None]:
    from checks.language import detect_languages

    live = [i for i, r in enumerate(reasons) if r is None]
    found = detect_languages([texts[i] for i in live])
    out = list(reasons)
    for i, code in zip(live, found, strict=True):
        if code is not None and code != language:
            out[i] = f"language: detected {code!r}, expected {language!r}"
    return out


def screening_reasons(
    texts: Sequence[str | None],
    vectors: np.ndarray,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]],
    config: ChecksConfig,
    *,
    pii: bool = True,
    skip: Sequence[str | None] | None = None,
) -> list[str | None]:
    """Per text, `pii: ...` or `contamination: ...` when it holds personal data or matches an
    evaluation item, else None; rows whose `skip` entry is set are not examined."""
    from checks.contamination import contamination_hits, hit_reason
    from checks.privacy import pii_kinds

    reasons: list[str | None] = [None] * len(texts)
    if pii:
        for i, kinds in enumerate(pii_kinds(texts)):
            if kinds and (skip is None or skip[i] is None):
                reasons[i] = f"pii: holds {', '.join(kinds)}"
    live = [i for i, r in enumerate(reasons) if r is None and (skip is None or skip[i] is None)]
    if eval_sets and live:
        hits = contamination_hits(
            [texts[i] for i in live],
            vectors[live],
            eval_sets,
            ngram=config.contamination_ngram,
            cosine=config.contamination_cosine,
        )
        for i, hit in zip(live, hits, strict=True):
            if hit is not None:
                reasons[i] = hit_reason(hit, config.contamination_cosine)
    return reasons


def redact_samples(samples: pl.DataFrame) -> pl.DataFrame:
    """`samples` with e-mail addresses, phone numbers, IBANs and card numbers redacted in `text`."""
    from checks.privacy import redact_pii

    redacted = [redact_pii(t) for t in samples["text"].to_list()]
    return samples.with_columns(pl.Series("text", redacted, dtype=pl.String))


def _check_vectors(samples: pl.DataFrame, sample_vectors: np.ndarray) -> np.ndarray:
    vectors = unit_rows(sample_vectors) if len(sample_vectors) else np.zeros((0, 1), np.float32)
    if vectors.shape[0] != samples.height:
        msg = (
            f"sample_vectors has {vectors.shape[0]} rows but samples has {samples.height}; "
            "embed exactly the `text` column of the samples, in row order"
        )
        raise SchemaError(msg)
    return vectors


def _text_reason(text: str | None, achieved: float | None, config: ChecksConfig) -> str | None:
    if text is None or not text.strip():
        return "empty: text is empty or whitespace only"
    if len(text) < config.min_chars:
        return f"too_short: {len(text)} chars < min_chars {config.min_chars}"
    if len(text) > config.max_chars:
        return f"too_long: {len(text)} chars > max_chars {config.max_chars}"
    if (talk := meta_talk(text)) is not None:
        return f"meta_talk: {talk}"
    if achieved is None or np.isnan(achieved):
        return "off_target: achieved_cosine is missing"
    if achieved < config.min_target_cosine:
        return (
            f"off_target: achieved_cosine {achieved:.3f} < min_target_cosine "
            f"{config.min_target_cosine}"
        )
    return None


def _duplicate_reasons(
    order: list[int],
    ids: list[str],
    texts: list[str | None],
    vectors: np.ndarray,
    threshold: float,
) -> list[tuple[int, str]]:
    """Greedy pass in `order`: a row duplicating an already accepted row is rejected."""
    out: list[tuple[int, str]] = []
    kept: list[int] = []
    kept_keys: dict[str, int] = {}
    for start in range(0, len(order), _BLOCK):
        block = order[start : start + _BLOCK]
        prior = kept[:]
        prev_sims = vectors[block] @ vectors[prior].T if prior else np.zeros((len(block), 0))
        own_sims = vectors[block] @ vectors[block].T
        kept_in_block: list[int] = []
        for b, i in enumerate(block):
            key = text_key(texts[i] or "")
            if key in kept_keys:
                out.append((i, f"duplicate: same normalized text as sample {ids[kept_keys[key]]}"))
                continue
            best, other = -np.inf, -1
            if prior:
                j = int(np.argmax(prev_sims[b]))
                best, other = float(prev_sims[b, j]), prior[j]
            for c in kept_in_block:
                if own_sims[b, c] > best:
                    best, other = float(own_sims[b, c]), block[c]
            if best >= threshold:
                out.append(
                    (i, f"duplicate: cosine {best:.3f} >= {threshold} to sample {ids[other]}")
                )
                continue
            kept.append(i)
            kept_in_block.append(b)
            kept_keys[key] = i
    return out
