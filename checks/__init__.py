"""Quality gates for synthetic samples: row filters, set checks and their Great Expectations suites.

- `checks.specs`: the checks (family, metric, bound) and which block by default.
- `checks.metrics`, `privacy`, `contamination`, `fluency`, `language`, `tone`, `spread`,
  `mix_drift`: the pure metrics.
- `checks.row_filters`: per-row rejection with a reason.
- `checks.thresholds`, `measure`, `suites`, `gate`: thresholds derived from the corpus,
  measurements, GX 1.x validation and the report.
- `checks.pipeline` (the pipeline's tables), `checks.external` (`factory check` on any file),
  `checks.datadocs` (stored results and Data Docs). The Dagster asset checks that run them
  live in `assets.quality_checks`; nothing here imports dagster.

Great Expectations is imported by `checks.suites`, `checks.expectations` and `checks.datadocs`
only, so importing `checks` stays cheap; importing any of them registers factory's custom
expectations.

Example:
    >>> from checks import SPECS, DEFAULT_BLOCKING
    >>> "privacy" in DEFAULT_BLOCKING and SPECS["privacy"].family
    'privacy'
"""

from __future__ import annotations

from checks.row_filters import REJECT_CATEGORIES, filter_samples, rejection_reasons
from checks.specs import DEFAULT_BLOCKING, FAMILIES, SPECS, CheckSpec

__all__ = [
    "DEFAULT_BLOCKING",
    "FAMILIES",
    "REJECT_CATEGORIES",
    "SPECS",
    "CheckSpec",
    "filter_samples",
    "rejection_reasons",
]
