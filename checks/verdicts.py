"""What each check family reports: observed values, thresholds, criteria and a sentence.

`OBSERVE[family](frame, config, mostly)` gives (observed, thresholds); `DESCRIBE[family]` turns
them into the `details` line; `CRITERIA[family]` maps each threshold to the observed metric it
bounds.

Example:
    >>> sorted(OBSERVE) == sorted(DESCRIBE) == sorted(CRITERIA)
    True
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from checks.frames import INSUFFICIENT, JUDGED
from factory.config import ChecksConfig

__all__ = ["CRITERIA", "DESCRIBE", "OBSERVE"]


def _observe_coherence(
    frame: pl.DataFrame, config: ChecksConfig, mostly: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    n = frame.height
    length_ok = frame["text_length"].is_between(config.min_chars, config.max_chars).sum()
    on_target = (frame["achieved_cosine"] >= config.min_target_cosine).sum()
    length_share = float(length_ok / n) if n else 0.0
    target_share = float(on_target / n) if n else 0.0
    cosines = frame["achieved_cosine"].fill_nan(None)
    observed = {
        "rows": n,
        "null_texts": int(frame["text"].null_count()),
        "length_ok_share": length_share,
        "on_target_share": target_share,
        "min_pass_share": min(length_share, target_share),
        "min_text_length": _scalar(frame["text_length"].min()),
        "max_text_length": _scalar(frame["text_length"].max()),
        "mean_text_length": _mean(frame["text_length"]),
        "min_achieved_cosine": _scalar(cosines.min()),
        "mean_achieved_cosine": _mean(cosines),
    }
    thresholds = {
        "min_chars": config.min_chars,
        "max_chars": config.max_chars,
        "min_target_cosine": config.min_target_cosine,
        "mostly": mostly,
    }
    return observed, thresholds


def _observe_diversity(
    frame: pl.DataFrame, config: ChecksConfig, _: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    observed = frame.row(0, named=True)
    thresholds = {
        "max_duplicate_rate": config.max_duplicate_rate,
        "duplicate_cosine": config.duplicate_cosine,
        "min_diversity_ratio": config.min_diversity_ratio,
    }
    return observed, thresholds


def _observe_bias(
    frame: pl.DataFrame, config: ChecksConfig, _: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    judged = frame.filter(pl.col("evidence") == JUDGED)
    over = judged.filter(pl.col("ratio") > config.max_bias_ratio)
    observed = {
        "judged_groups": judged.height,
        "insufficient_evidence_groups": frame.height - judged.height,
        "max_ratio": float(judged["ratio"].max()) if judged.height else None,  # type: ignore[arg-type]
        "over_represented": over["group"].to_list(),
        "insufficient_evidence": frame.filter(pl.col("evidence") == INSUFFICIENT)[
            "group"
        ].to_list(),
        "groups": {row.pop("group"): row for row in frame.to_dicts()},
    }
    thresholds = {"max_bias_ratio": config.max_bias_ratio, "bias_min_count": config.bias_min_count}
    return observed, thresholds


def _describe_coherence(obs: dict[str, Any], thr: dict[str, Any], passed: bool) -> str:
    return (
        f"coherence {'passed' if passed else 'failed'}: {obs['rows']} samples; "
        f"{obs['length_ok_share']:.1%} within {thr['min_chars']}-{thr['max_chars']} chars, "
        f"{obs['on_target_share']:.1%} with achieved_cosine >= {thr['min_target_cosine']} "
        f"(each needs {thr['mostly']:.0%}); {obs['null_texts']} null texts"
    )


def _describe_diversity(obs: dict[str, Any], thr: dict[str, Any], passed: bool) -> str:
    ratio = obs["diversity_ratio"]
    shown = (
        "undefined (fewer than 2 samples or corpus documents)" if ratio is None else f"{ratio:.3f}"
    )
    return (
        f"diversity {'passed' if passed else 'failed'}: duplicate rate "
        f"{obs['duplicate_rate']:.3f} (max {thr['max_duplicate_rate']}, cosine >= "
        f"{thr['duplicate_cosine']}); diversity ratio {shown} (min {thr['min_diversity_ratio']}) "
        f"= sample mean cosine distance / corpus mean cosine distance"
    )


def _describe_bias(obs: dict[str, Any], thr: dict[str, Any], passed: bool) -> str:
    over = (
        ", ".join(f"{g} ({obs['groups'][g]['ratio']:.2f}x)" for g in obs["over_represented"])
        or "none"
    )
    return (
        f"bias {'passed' if passed else 'failed'}: {obs['judged_groups']} groups judged, "
        f"{obs['insufficient_evidence_groups']} with insufficient evidence (< "
        f"{thr['bias_min_count']} mentions in samples + corpus); over-represented beyond "
        f"{thr['max_bias_ratio']}x: {over}"
    )


CRITERIA: dict[str, dict[str, str]] = {
    "bias": {"max_bias_ratio": "max_ratio"},
    "coherence": {
        "min_chars": "min_text_length",
        "max_chars": "max_text_length",
        "min_target_cosine": "min_achieved_cosine",
        "mostly": "min_pass_share",
    },
    "diversity": {
        "max_duplicate_rate": "duplicate_rate",
        "min_diversity_ratio": "diversity_ratio",
    },
}
_Observer = Callable[[pl.DataFrame, ChecksConfig, float], tuple[dict[str, Any], dict[str, Any]]]
OBSERVE: dict[str, _Observer] = {
    "bias": _observe_bias,
    "coherence": _observe_coherence,
    "diversity": _observe_diversity,
}
DESCRIBE: dict[str, Callable[[dict[str, Any], dict[str, Any], bool], str]] = {
    "bias": _describe_bias,
    "coherence": _describe_coherence,
    "diversity": _describe_diversity,
}


def _scalar(value: Any) -> float | None:
    return None if value is None else float(value)


def _mean(series: pl.Series) -> float | None:
    value = series.drop_nulls().mean()
    return float(value) if value is not None else None  # type: ignore[arg-type]
