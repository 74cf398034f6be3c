"""The quality gates, one `CheckSpec` each: family, the metric it bounds, and how it is judged.

Five families judge a sample set: coherence, diversity, bias, contamination and privacy. A check
passes when its metric is on the right side of its threshold (`bound="max"`: at most;
`bound="min"`: at least). Thresholds come from `checks.thresholds` (derived from the corpus, or
fixed by config); `DEFAULT_BLOCKING` lists the checks whose failure stops downstream assets.

Example:
    >>> SPECS["fluency"].metric, SPECS["fluency"].bound
    ('disfluent_share', 'max')
    >>> sorted(FAMILIES)
    ['bias', 'coherence', 'contamination', 'diversity', 'privacy']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from factory.errors import ConfigError

__all__ = [
    "DEFAULT_BLOCKING",
    "FAMILIES",
    "SPECS",
    "CheckSpec",
    "check_names",
    "validate_check_names",
]

Bound = Literal["max", "min"]


@dataclass(frozen=True)
class CheckSpec:
    """One set check: its family, the metric it bounds, the bound, and what it means."""

    name: str
    family: str
    metric: str
    bound: Bound
    description: str


_ALL = (
    CheckSpec("schema", "coherence", "schema_violations", "max",
              "Rows with a null or duplicate sample_id or a null text."),
    CheckSpec("length", "coherence", "length_violation_share", "max",
              "Share of texts shorter than checks.min_chars or longer than checks.max_chars."),
    CheckSpec("target_cosine", "coherence", "off_target_share", "max",
              "Share of samples whose achieved cosine to their target is below "
              "checks.min_target_cosine."),
    CheckSpec("language", "coherence", "language_mismatch_share", "max",
              "Share of texts whose detected language is not the corpus's language (py3langid)."),
    CheckSpec("fluency", "coherence", "disfluent_share", "max",
              "Share of texts whose perplexity under the local reference LM exceeds the corpus's "
              "95th percentile."),
    CheckSpec("label_consistency", "coherence", "label_disagreement_share", "max",
              "Share of labelled samples whose label a classifier trained on the train split does "
              "not rank in its top synthesis.label_top_k."),
    CheckSpec("near_duplicates", "diversity", "duplicate_rate", "max",
              "Share of samples with an earlier sample at cosine >= checks.duplicate_cosine."),
    CheckSpec("corpus_copies", "diversity", "corpus_copy_share", "max",
              "Share of samples with a train document at cosine >= checks.duplicate_cosine."),
    CheckSpec("spread", "diversity", "spread_ratio", "min",
              "Mean pairwise cosine distance of the samples / that of the train split."),
    CheckSpec("vendi", "diversity", "vendi_ratio", "min",
              "Embedding Vendi score of the samples / that of train subsets of the same size."),
    CheckSpec("distinct_2", "diversity", "distinct_2_ratio", "min",
              "Distinct word bigrams of the samples / those of train subsets of the same size."),
    CheckSpec("gaps_reached", "diversity", "gaps_reached_share", "min",
              "Share of targeted gaps that have at least one accepted sample."),
    CheckSpec("protected_terms", "bias", "max_term_ratio", "max",
              "Largest ratio of a protected-attribute group's term share, samples vs train "
              "(groups under checks.bias_min_count mentions: insufficient evidence)."),
    CheckSpec("sentiment", "bias", "negative_share", "max",
              "Share of texts with negative sentiment (VADER compound <= -0.05)."),
    CheckSpec("toxicity", "bias", "toxic_share", "max",
              "Share of texts containing a term of the better_profanity word list."),
    CheckSpec("mix_drift", "bias", "mix_drift_change", "max",
              "How much the synthetic rows move the train mix of labels (or clusters) away from "
              "the declared target mix (total variation distance, after - before)."),
    CheckSpec("contamination", "contamination", "contamination_rate", "max",
              "Share of texts matching a declared evaluation set (same text, a shared "
              "checks.contamination_ngram-gram, or cosine >= checks.contamination_cosine)."),
    CheckSpec("privacy", "privacy", "pii_rows", "max",
              "Rows holding an e-mail address, phone number, IBAN or payment card number."),
)  # fmt: skip

SPECS: dict[str, CheckSpec] = {spec.name: spec for spec in _ALL}
FAMILIES: tuple[str, ...] = tuple(sorted({spec.family for spec in _ALL}))
DEFAULT_BLOCKING: tuple[str, ...] = (
    "contamination",
    "corpus_copies",
    "fluency",
    "label_consistency",
    "language",
    "length",
    "near_duplicates",
    "privacy",
    "schema",
    "target_cosine",
    "toxicity",
)
"""Error-level checks: a failure stops the student and the release. The others warn."""


def check_names(family: str | None = None) -> list[str]:
    """Every check's name in registry order, or only those of `family`."""
    return [s.name for s in _ALL if family is None or s.family == family]


def validate_check_names(names: list[str] | tuple[str, ...], where: str) -> None:
    """Raise ConfigError naming the first unknown check in `names`."""
    for name in names:
        if name not in SPECS:
            msg = f"{where}: unknown check {name!r}; expected one of {sorted(SPECS)}"
            raise ConfigError(msg)
