"""The quality gate end to end: reference, thresholds, measurements, GX suites, one report.

`QualityGate` is built once per corpus (it measures the train split: the costly part) and then
judges any number of sample sets: `gate.judge(sample_set)` returns a `SuiteReport` with every
check's observed value, threshold, verdict and GX result.

Example:
    >>> gate = QualityGate(reference, eval_sets, config, tools)  # doctest: +SKIP
    >>> report = gate.judge(SampleSet(samples, vectors))  # doctest: +SKIP
    >>> report.passed  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from checks.contamination import EvalSet, resolve_eval_set
from checks.measure import SampleSet, measure_samples, reference_rates, size_matched_rates
from checks.reference import QualityReference, QualityTools
from checks.specs import DEFAULT_BLOCKING, validate_check_names
from checks.thresholds import ReferenceRates, Threshold, thresholds_for
from factory.config import ChecksConfig

if TYPE_CHECKING:
    from checks.suites import SuiteReport

__all__ = ["QualityGate", "blocking_checks", "embedded_eval_sets"]

EmbeddedEvalSet = tuple[EvalSet, np.ndarray]
_EVAL_CACHE: dict[tuple[str, str], EmbeddedEvalSet] = {}
_EVAL_LOCK = threading.Lock()


def blocking_checks(config: ChecksConfig) -> tuple[str, ...]:
    """The checks whose failure blocks: `checks.blocking`, else `DEFAULT_BLOCKING`."""
    if config.blocking is None:
        return DEFAULT_BLOCKING
    validate_check_names(config.blocking, "checks.blocking")
    return tuple(sorted(config.blocking))


def embedded_eval_sets(
    specs: Sequence[str], tools: QualityTools, base_dir: Path | None = None
) -> list[EmbeddedEvalSet]:
    """Each declared evaluation set with its vectors, embedded once per process and model, and
    kept in `tools.cache_dir/eval-sets` (when set) for the next process."""
    out = []
    fingerprint = str(getattr(tools.embedder, "fingerprint", ""))
    for spec in specs:
        eval_set = resolve_eval_set(spec, base_dir)
        key = (f"{eval_set.source}:{len(eval_set.texts)}", fingerprint)
        with _EVAL_LOCK:
            cached = _EVAL_CACHE.get(key)
        if cached is None or cached[0] != eval_set:
            cached = (eval_set, _stored_vectors(eval_set, tools, fingerprint))
            with _EVAL_LOCK:
                _EVAL_CACHE[key] = cached
        out.append(cached)
    return out


def _stored_vectors(eval_set: EvalSet, tools: QualityTools, model: str) -> np.ndarray:
    """The vectors of `eval_set`'s texts: read from the cache folder when stored for the same
    texts and model (an unfingerprinted model is never stored), else embedded and stored."""
    from factory.hashing import fingerprint

    texts = list(eval_set.texts)
    if tools.cache_dir is None or not model:
        return tools.embed(texts)
    path = Path(tools.cache_dir) / "eval-sets" / f"{fingerprint(model, texts)[:24]}.npy"
    if path.is_file():
        try:
            stored = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            stored = None
        if stored is not None and stored.shape[0] == len(texts):
            return stored.astype(np.float32, copy=False)
    vectors = tools.embed(texts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, vectors, allow_pickle=False)
    os.replace(tmp, path)
    return vectors


class QualityGate:
    """Judges sample sets against one corpus reference; measures the reference once."""

    def __init__(
        self,
        reference: QualityReference,
        eval_sets: Sequence[EmbeddedEvalSet],
        config: ChecksConfig,
        tools: QualityTools,
        *,
        label_top_k: int = 3,
    ) -> None:
        self.reference = reference
        self.eval_sets = list(eval_sets)
        self.config = config
        self.tools = tools
        self.label_top_k = label_top_k
        self.blocking = blocking_checks(config)
        self._rates: ReferenceRates | None = None

    @property
    def rates(self) -> ReferenceRates:
        """The train split's own rates (measured on first use)."""
        if self._rates is None:
            self._rates = reference_rates(
                self.reference, self.eval_sets, self.config, self.tools, self.label_top_k
            )
        return self._rates

    def thresholds(self, rows: int) -> dict[str, Threshold]:
        """Every check's threshold for a set of `rows` rows."""
        size_rates = size_matched_rates(self.reference, rows, self.config)
        return thresholds_for(self.rates, rows, self.config, size_rates)

    def judge(
        self,
        samples: SampleSet,
        *,
        gap_ids: Sequence[str] | None = None,
        validator: Callable[..., dict[str, Any]] | None = None,
    ) -> SuiteReport:
        """Measure `samples`, validate every family's suite, and report each check."""
        import time

        from checks.suites import run_suites

        start = time.perf_counter()
        thresholds = self.thresholds(samples.size)
        measured = measure_samples(
            samples,
            self.reference,
            self.rates,
            self.eval_sets,
            self.config,
            self.tools,
            gap_ids=gap_ids,
            label_top_k=self.label_top_k,
        )
        report = run_suites(measured, thresholds, self.blocking, validator)
        report.seconds = time.perf_counter() - start
        return report
