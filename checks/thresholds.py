"""Thresholds of the set checks, derived from the corpus's own distribution unless configured.

Rate checks (a share of rows that may be bad) are bounded by what real rows do: the train
split's own rate p, measured on `checks.reference_rows` train rows (or all of them where that is
cheap). A set of n rows fails when its rate q is higher than p by more than chance: when a
one-sided two-proportion z-test with the pooled rate, (q - p) / sqrt(P (1 - P) (1/n + 1/m)) with
P = (q n + p m) / (n + m), exceeds `margin_sigmas` (3). The threshold reported is the largest q
that passes. A real set drawn like the corpus therefore passes whatever its size; a set worse
than the corpus by more than chance fails. The other checks take a fixed value from the config.
Any check's value can be pinned with `checks.thresholds: {name: value}`.

| check | reference rate |
| --- | --- |
| length | train rows outside [min_chars, max_chars] |
| language | train rows not in the train split's dominant language |
| fluency | train rows above the train rows' fluency_percentile perplexity (the ceiling) |
| label_consistency | held-out train rows whose label a classifier fitted on the rest misranks |
| near_duplicates | near-duplicates within random train subsets of the set's size (median of 3) |
| corpus_copies | train rows with another train row at cosine >= duplicate_cosine |
| sentiment, toxicity | train rows with negative sentiment / a toxic term |
| contamination | train rows matching a declared evaluation set |

`mix_drift` allows the drift that as many train rows drawn at random would cause, plus
`checks.max_mix_drift_change`.

Example:
    >>> round(rate_ceiling(0.05, 1000, 200, 3.0), 4)
    0.1048
    >>> rate_ceiling(0.05, 1000, 200, 0.0)
    0.05
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from checks.specs import SPECS, validate_check_names
from factory.config import ChecksConfig

__all__ = ["ReferenceRates", "Threshold", "rate_ceiling", "thresholds_for"]

_RATE_CHECKS = {
    "length": "length_violation_share",
    "language": "language_mismatch_share",
    "fluency": "disfluent_share",
    "label_consistency": "label_disagreement_share",
    "near_duplicates": "duplicate_rate",
    "corpus_copies": "corpus_copy_share",
    "sentiment": "negative_share",
    "toxicity": "toxic_share",
    "contamination": "contamination_rate",
}


@dataclass(frozen=True)
class Threshold:
    """A check's bound: value (None when the check does not apply) and where it came from."""

    name: str
    value: float | None
    source: str  # "derived", "config" or "pinned"
    derivation: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        return asdict(self)


@dataclass(frozen=True)
class ReferenceRates:
    """What the train split does on each rate metric: `rates[metric] = (rate, rows measured)`.

    Also the values the measurements need: the perplexity ceiling and the expected language.
    Rates that depend on the set's size (near-duplicates) are measured per set.
    """

    rates: dict[str, tuple[float, int]]
    perplexity_ceiling: float | None
    language: str | None
    notes: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON form."""
        return {
            "rates": {k: {"rate": r, "rows": m} for k, (r, m) in sorted(self.rates.items())},
            "perplexity_ceiling": self.perplexity_ceiling,
            "language": self.language,
            "notes": dict(sorted(self.notes.items())),
        }


def rate_ceiling(rate: float, reference_rows: int, rows: int, sigmas: float) -> float:
    """The largest rate of `rows` rows that a one-sided two-proportion z-test (pooled, at
    `sigmas`) does not call higher than `rate` measured on `reference_rows` rows."""
    m, n = max(reference_rows, 1), max(rows, 1)
    rate = min(max(rate, 0.0), 1.0)
    if sigmas <= 0:
        return rate

    def passes(q: float) -> bool:
        pooled = (q * n + rate * m) / (n + m)
        spread = math.sqrt(max(pooled * (1.0 - pooled), 0.0) * (1.0 / n + 1.0 / m))
        return q - rate <= sigmas * spread

    if passes(1.0):
        return 1.0
    low, high = rate, 1.0  # passes(low) holds; the test statistic grows with q past the root
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if passes(middle) else (low, middle)
    return low


def thresholds_for(
    rates: ReferenceRates,
    rows: int,
    config: ChecksConfig,
    size_rates: dict[str, tuple[float, int]] | None = None,
) -> dict[str, Threshold]:
    """Every check's threshold for a set of `rows` rows; `size_rates` adds size-matched rates."""
    validate_check_names(list(config.thresholds), "checks.thresholds")
    measured = {**rates.rates, **(size_rates or {})}
    z = config.margin_sigmas
    out: dict[str, Threshold] = {}
    for name in SPECS:
        if name in config.thresholds:
            value = float(config.thresholds[name])
            out[name] = Threshold(name, value, "pinned", f"checks.thresholds.{name} = {value}")
            continue
        if name in _RATE_CHECKS:
            metric = _RATE_CHECKS[name]
            if metric not in measured:
                note = rates.notes.get(metric, "no reference rate")
                out[name] = Threshold(name, None, "derived", note)
                continue
            rate, m = measured[metric]
            value = rate_ceiling(rate, m, rows, z)
            text = (
                f"train rate {rate:.4f} over {m} rows; higher only by chance at {rows} rows "
                f"(one-sided two-proportion z <= {z:g})"
            )
            out[name] = Threshold(name, value, "derived", text)
            continue
        if name == "mix_drift" and "mix_drift_change" in measured:
            noise, m = measured["mix_drift_change"]
            value = noise + config.max_mix_drift_change
            text = (
                f"drift {noise:.4f} that {m} train rows drawn at random cause + "
                f"checks.max_mix_drift_change {config.max_mix_drift_change:g}"
            )
            out[name] = Threshold(name, value, "derived", text)
            continue
        value, key = _configured(name, config)
        out[name] = Threshold(name, value, "config", key)
    return out


def _configured(name: str, config: ChecksConfig) -> tuple[float, str]:
    fixed: dict[str, tuple[float, str]] = {
        "schema": (0.0, "no row may break the schema"),
        "privacy": (0.0, "no accepted row may hold personal data"),
        "target_cosine": (config.max_off_target_share, "checks.max_off_target_share"),
        "spread": (config.min_diversity_ratio, "checks.min_diversity_ratio"),
        "vendi": (config.min_diversity_ratio, "checks.min_diversity_ratio"),
        "distinct_2": (config.min_diversity_ratio, "checks.min_diversity_ratio"),
        "gaps_reached": (config.min_gaps_reached, "checks.min_gaps_reached"),
        "protected_terms": (config.max_bias_ratio, "checks.max_bias_ratio"),
        "mix_drift": (config.max_mix_drift_change, "checks.max_mix_drift_change"),
    }
    value, key = fixed[name]
    return float(value), f"{key} = {value:g}" if key.startswith("checks.") else key
