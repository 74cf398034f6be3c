"""Measure a sample set, and the train split it is judged against, on every check's metric.

`reference_rates` measures the train split once (the expensive part: the reference LM scores
`checks.reference_rows` rows, a classifier is fitted twice, the evaluation sets are matched);
`measure_samples` measures a set; `size_matched_rates` measures what depends on the set's size.
A metric that does not apply to a set (no labels, no targets, no gaps) is `None` with a note.

Example:
    >>> rates = reference_rates(reference, eval_sets, config, tools)  # doctest: +SKIP
    >>> measured = measure_samples(sample_set, reference, rates, eval_sets, config, tools)
    ... # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import polars as pl

from checks.bias_terms import JUDGED, bias_frame
from checks.contamination import EvalSet, contamination_hits, match_rate
from checks.metrics import (
    distinct_n,
    max_similarity_to,
    mean_pairwise_cosine_distance,
    near_duplicate_rate,
    unit_rows,
)
from checks.reference import QualityReference, QualityTools
from checks.thresholds import ReferenceRates
from factory.config import ChecksConfig
from factory.errors import SchemaError

__all__ = [
    "Measurement",
    "SampleSet",
    "measure_samples",
    "reference_rates",
    "size_matched_rates",
]

_NEGATIVE = -0.05
_BASELINE_DRAWS = 3


@dataclass(frozen=True)
class SampleSet:
    """A set to judge: a frame with `text` (and optionally `sample_id`, `label`,
    `achieved_cosine`, `gap_id`, `parent_doc_ids`) and its vectors, shape (n, d), row-aligned."""

    frame: pl.DataFrame
    vectors: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        if "text" not in self.frame.columns:
            msg = f"a sample set needs a `text` column; found {self.frame.columns}"
            raise SchemaError(msg)
        if int(self.vectors.shape[0]) != self.frame.height:
            msg = (
                f"sample vectors have {self.vectors.shape[0]} rows but the set has "
                f"{self.frame.height}; embed exactly the `text` column, in row order"
            )
            raise SchemaError(msg)

    @property
    def size(self) -> int:
        """Number of rows."""
        return self.frame.height

    @property
    def texts(self) -> list[str | None]:
        """The `text` column."""
        return self.frame["text"].to_list()

    def column(self, name: str) -> list[Any] | None:
        """Column `name` as a list, or None when absent or entirely null."""
        if name not in self.frame.columns or self.frame[name].null_count() == self.size:
            return None
        return self.frame[name].to_list()


@dataclass(frozen=True)
class Measurement:
    """A metric's value on a set (None: does not apply), rows it covers, and a note."""

    value: float | None
    rows: int
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def reference_rates(
    reference: QualityReference,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]],
    config: ChecksConfig,
    tools: QualityTools,
    label_top_k: int = 3,
) -> ReferenceRates:
    """The train split's own rate on every rate metric (see `checks.thresholds`)."""
    from checks.fluency import percentile_ceiling, share_above
    from checks.language import language_mismatch_share
    from checks.tone import negative_share, sentiment_scores, toxic_flags, toxic_share

    rates: dict[str, tuple[float, int]] = {}
    notes: dict[str, str] = {}
    m = reference.size
    if m == 0:
        return ReferenceRates({}, None, config.language, {"all": "the train split is empty"})
    rows = reference.subset_rows(config.reference_rows)
    sample = [reference.texts[i] for i in rows]

    lengths = np.array([len(t or "") for t in reference.texts])
    outside = (lengths < config.min_chars) | (lengths > config.max_chars)
    rates["length_violation_share"] = (float(outside.mean()), m)

    languages = reference.subset_languages(config.reference_rows)
    language = reference.expected_language(config)
    if language is None:
        notes["language_mismatch_share"] = "no language detected in the train split"
    else:
        rates["language_mismatch_share"] = (language_mismatch_share(languages, language), len(rows))

    scored = sample[: config.fluency_rows]
    perplexity = tools.perplexities(scored)
    ceiling: float | None = None
    if np.isfinite(perplexity).any():
        ceiling = percentile_ceiling(perplexity, config.fluency_percentile)
        rates["disfluent_share"] = (share_above(perplexity, ceiling), len(scored))
    else:
        notes["disfluent_share"] = "no train text long enough to score"

    if reference.labelled:
        held_out = reference.subset_rows(min(config.reference_rows, max(1, m // 5)))
        rates["label_disagreement_share"] = (
            _held_out_disagreement(reference, held_out, tools, label_top_k),
            len(held_out),
        )
    else:
        notes["label_disagreement_share"] = "the train split has no labels"

    rates["corpus_copy_share"] = (
        _leave_one_out_copy_share(reference.vectors, rows, config.duplicate_cosine),
        len(rows),
    )
    rates["negative_share"] = (negative_share(sentiment_scores(sample), _NEGATIVE), len(rows))
    rates["toxic_share"] = (toxic_share(toxic_flags(sample)), len(rows))

    if eval_sets:
        hits = contamination_hits(
            reference.texts,
            reference.vectors,
            eval_sets,
            ngram=config.contamination_ngram,
            cosine=config.contamination_cosine,
        )
        rates["contamination_rate"] = (match_rate(hits), m)
    else:
        notes["contamination_rate"] = "no evaluation set declared (checks.eval_sets)"
    return ReferenceRates(rates, ceiling, language, notes)


def size_matched_rates(
    reference: QualityReference, rows: int, config: ChecksConfig
) -> dict[str, tuple[float, int]]:
    """What depends on the set's size, measured on random train subsets of `rows` rows.

    `duplicate_rate`: near-duplicates within a subset (median of 3 draws); `mix_drift_change`:
    how far `rows` train rows drawn with replacement move the mix (sampling noise alone).
    """
    if reference.size < 2 or rows < 2:
        return {}
    from checks.spread import random_subsets

    draws = random_subsets(reference.size, rows, _BASELINE_DRAWS)
    rates = [near_duplicate_rate(reference.vectors[d], config.duplicate_cosine) for d in draws]
    out = {"duplicate_rate": (float(np.median(rates)), len(draws[0]))}
    if any(g is not None for g in reference.groups):
        from checks.mix_drift import mix_drift

        rng = np.random.default_rng(0)
        changes = []
        for _ in range(_BASELINE_DRAWS):
            pick = rng.choice(reference.size, rows, replace=True)
            drawn = [reference.groups[i] for i in pick]
            changes.append(mix_drift(reference.groups, drawn, reference.target_mix).change)
        out["mix_drift_change"] = (max(0.0, float(np.median(changes))), rows)
    return out


def measure_samples(
    samples: SampleSet,
    reference: QualityReference,
    rates: ReferenceRates,
    eval_sets: Sequence[tuple[EvalSet, np.ndarray]],
    config: ChecksConfig,
    tools: QualityTools,
    *,
    gap_ids: Sequence[str] | None = None,
    label_top_k: int = 3,
) -> dict[str, Measurement]:
    """Every metric of `checks.specs` on `samples`, keyed by metric name."""
    from checks.fluency import share_above
    from checks.language import detect_languages, language_mismatch_share
    from checks.privacy import pii_counts, pii_kinds
    from checks.tone import negative_share, sentiment_scores, toxic_flags, toxic_share

    n = samples.size
    texts = samples.texts
    vectors = unit_rows(samples.vectors) if n else samples.vectors
    out: dict[str, Measurement] = {}

    ids = samples.column("sample_id")
    null_ids = 0 if ids is None else sum(i is None for i in ids)
    duplicate_ids = 0 if ids is None else n - null_ids - len({i for i in ids if i is not None})
    null_texts = sum(t is None for t in texts)
    out["schema_violations"] = Measurement(
        float(null_ids + duplicate_ids + null_texts),
        n,
        details={"null_ids": null_ids, "duplicate_ids": duplicate_ids, "null_texts": null_texts},
    )
    lengths = np.array([len(t or "") for t in texts])
    outside = (lengths < config.min_chars) | (lengths > config.max_chars)
    out["length_violation_share"] = Measurement(_mean(outside), n)

    achieved = samples.column("achieved_cosine")
    if achieved is None:
        out["off_target_share"] = Measurement(None, n, "the set records no achieved_cosine")
    else:
        cos = np.array([np.nan if a is None else a for a in achieved], dtype=np.float64)
        off = ~(cos >= config.min_target_cosine)
        out["off_target_share"] = Measurement(_mean(off), n)

    if rates.language is None:
        out["language_mismatch_share"] = Measurement(None, n, "no corpus language")
    else:
        languages = detect_languages(texts)
        out["language_mismatch_share"] = Measurement(
            language_mismatch_share(languages, rates.language),
            n,
            details={"expected": rates.language, "found": _counts(languages)},
        )

    if rates.perplexity_ceiling is None:
        out["disfluent_share"] = Measurement(None, n, "no perplexity ceiling")
    else:
        perplexity = tools.perplexities(texts)
        finite = perplexity[np.isfinite(perplexity)]
        out["disfluent_share"] = Measurement(
            share_above(perplexity, rates.perplexity_ceiling) if finite.size else None,
            int(finite.size),
            details={
                "ceiling": rates.perplexity_ceiling,
                "median_perplexity": float(np.median(finite)) if finite.size else None,
            },
        )

    out["label_disagreement_share"] = _label_disagreement(
        samples, vectors, reference, tools, label_top_k
    )

    out["duplicate_rate"] = Measurement(
        near_duplicate_rate(vectors, config.duplicate_cosine) if n else 0.0, n
    )
    copy = max_similarity_to(reference.vectors, vectors) if n and reference.size else None
    out["corpus_copy_share"] = Measurement(
        _mean(copy >= config.duplicate_cosine) if copy is not None else 0.0, n
    )
    out.update(_diversity(samples, vectors, reference))
    out["gaps_reached_share"] = _gaps_reached(samples, gap_ids)

    frame = bias_frame(texts, reference.texts, config)
    judged = frame.filter(pl.col("evidence") == JUDGED)
    groups = {row.pop("group"): row for row in frame.to_dicts()}
    out["max_term_ratio"] = Measurement(
        float(judged["ratio"].max()) if judged.height else None,  # type: ignore[arg-type]
        n,
        "" if judged.height else "insufficient evidence: no group reaches checks.bias_min_count",
        details={"groups": groups},
    )
    out["negative_share"] = Measurement(negative_share(sentiment_scores(texts), _NEGATIVE), n)
    flags = toxic_flags(texts)
    out["toxic_share"] = Measurement(
        toxic_share(flags), n, details={"toxic_rows": int(flags.sum())}
    )
    out["mix_drift_change"] = _mix_drift(samples, reference)

    if eval_sets:
        hits = contamination_hits(
            texts,
            vectors,
            eval_sets,
            ngram=config.contamination_ngram,
            cosine=config.contamination_cosine,
        )
        kinds = _counts([h.kind if h else None for h in hits])
        out["contamination_rate"] = Measurement(match_rate(hits), n, details={"by_kind": kinds})
    else:
        out["contamination_rate"] = Measurement(None, n, "no evaluation set declared")

    found = pii_kinds(texts)
    out["pii_rows"] = Measurement(
        float(sum(bool(k) for k in found)), n, details={"matches": pii_counts(texts)}
    )
    return out


def _diversity(
    samples: SampleSet, vectors: np.ndarray, reference: QualityReference
) -> dict[str, Measurement]:
    from checks.spread import size_matched_baseline, size_matched_texts_baseline, vendi_score

    n = samples.size
    if n < 2 or reference.size < 2:
        note = "needs at least 2 samples and 2 train rows"
        return {k: Measurement(None, n, note) for k in ("spread_ratio", "vendi_ratio",
                                                         "distinct_2_ratio")}  # fmt: skip
    corpus_spread = mean_pairwise_cosine_distance(reference.vectors)
    spread = mean_pairwise_cosine_distance(vectors)
    vendi = vendi_score(vectors)
    vendi_base = size_matched_baseline(vendi_score, reference.vectors, n, draws=_BASELINE_DRAWS)
    distinct = distinct_n([t or "" for t in samples.texts], 2)
    distinct_base = size_matched_texts_baseline(
        partial(distinct_n, n=2), reference.texts, n, draws=_BASELINE_DRAWS
    )
    return {
        "spread_ratio": Measurement(
            _ratio(spread, corpus_spread), n, details={"samples": spread, "train": corpus_spread}
        ),
        "vendi_ratio": Measurement(
            _ratio(vendi, vendi_base), n, details={"samples": vendi, "train_same_size": vendi_base}
        ),
        "distinct_2_ratio": Measurement(
            _ratio(distinct, distinct_base),
            n,
            details={"samples": distinct, "train_same_size": distinct_base},
        ),
    }


def _label_disagreement(
    samples: SampleSet,
    vectors: np.ndarray,
    reference: QualityReference,
    tools: QualityTools,
    top_k: int,
) -> Measurement:
    labels = samples.column("label")
    n = samples.size
    if labels is None:
        return Measurement(None, n, "the set has no labels")
    if not reference.labelled:
        return Measurement(None, n, "the train split has no labels to learn from")
    keep = [i for i, v in enumerate(labels) if v is not None]
    verifier = tools.label_verifier(reference.vectors, reference.labels)
    checks = verifier.check(vectors[keep], [str(labels[i]) for i in keep])
    wrong = [c.rank > top_k for c in checks]
    return Measurement(_mean(np.array(wrong)), len(keep), details={"top_k": top_k})


def _held_out_disagreement(
    reference: QualityReference, rows: np.ndarray, tools: QualityTools, top_k: int
) -> float:
    """Disagreement on `rows` (at most a fifth of train) of a classifier fitted on the others."""
    held = set(rows.tolist())
    rest = [i for i in range(reference.size) if i not in held]
    verifier = tools.label_verifier(reference.vectors[rest], [reference.labels[i] for i in rest])
    keep = [i for i in rows.tolist() if reference.labels[i] is not None]
    checks = verifier.check(reference.vectors[keep], [str(reference.labels[i]) for i in keep])
    return _mean(np.array([c.rank > top_k for c in checks]))


def _leave_one_out_copy_share(vectors: np.ndarray, rows: np.ndarray, threshold: float) -> float:
    if vectors.shape[0] < 2 or rows.size == 0:
        return 0.0
    unit = unit_rows(vectors)
    hits = 0
    for start in range(0, rows.size, 512):
        block = rows[start : start + 512]
        sims = unit[block] @ unit.T
        sims[np.arange(block.size), block] = -np.inf
        hits += int((sims.max(axis=1) >= threshold).sum())
    return hits / rows.size


def _gaps_reached(samples: SampleSet, gap_ids: Sequence[str] | None) -> Measurement:
    n = samples.size
    if not gap_ids:
        return Measurement(None, n, "no targeted gaps given")
    reached = set(samples.column("gap_id") or [])
    targeted = sorted(set(gap_ids))
    hit = [g for g in targeted if g in reached]
    return Measurement(
        len(hit) / len(targeted),
        n,
        details={"targeted": len(targeted), "reached": len(hit),
                 "missed": [g for g in targeted if g not in reached][:20]},
    )  # fmt: skip


def _mix_drift(samples: SampleSet, reference: QualityReference) -> Measurement:
    from checks.mix_drift import mix_drift

    n = samples.size
    if all(g is None for g in reference.groups):
        return Measurement(None, n, "the train split has neither labels nor clusters")
    groups: list[str | None]
    labels = samples.column("label")
    parents = samples.column("parent_doc_ids")
    if reference.labelled and labels is not None:
        groups = [None if v is None else str(v) for v in labels]
    elif parents is not None:
        groups = [reference.group_of(p[0]) if p else None for p in parents]
    else:
        return Measurement(None, n, "the set has neither labels nor parents to group by")
    drift = mix_drift(reference.groups, groups, reference.target_mix)
    return Measurement(
        drift.change,
        n,
        details={
            "before": drift.before,
            "after": drift.after,
            "most_grown": drift.most_grown,
            "most_grown_delta": drift.most_grown_delta,
        },
    )


def _mean(mask: np.ndarray) -> float:
    return float(np.mean(mask)) if mask.size else 0.0


def _ratio(value: float, base: float) -> float | None:
    if not (np.isfinite(value) and np.isfinite(base)) or base <= 0:
        return None
    return float(value / base)


def _counts(values: Sequence[str | None]) -> dict[str, int]:
    return dict(Counter("none" if v is None else v for v in values).most_common())
