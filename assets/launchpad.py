"""Launchpad overrides: the budgets, thresholds and teacher settings a user changes for one run
in the Dagster UI, without editing `factory.yaml`.

Each field mirrors one config key and carries that key's description; unset fields (the default)
leave the file's value. The resource `factory` applies them on top of the file, and the run's
lineage records the effective configuration as usual.

Example:
    >>> BudgetOverrides(gaps_total_budget=12).as_config()
    {'gaps': {'total_budget': 12}}
"""

from typing import Any

import dagster as dg
from pydantic import Field

from factory.config import FactoryConfig, config_keys
from factory.endpoints import KEEP_CREDENTIALS

__all__ = [
    "BudgetOverrides",
    "TeacherOverrides",
    "ThresholdOverrides",
    "apply_overrides",
]

_DESCRIPTIONS = config_keys()


def _key(field_name: str) -> str:
    section, _, key = field_name.partition("_")
    return f"{section}.{key}"


def _override(key: str) -> Any:
    """An optional field described as config key `key` is."""
    return Field(None, description=f"{_DESCRIPTIONS[key]} Unset: the value in factory.yaml.")


class _Overrides(dg.Config):
    """Fields named `<section>_<key>`, each overriding that config key when set."""

    def as_config(self) -> dict[str, dict[str, Any]]:
        """The set fields as a nested config fragment."""
        nested: dict[str, dict[str, Any]] = {}
        for name, value in self.model_dump().items():
            if value is not None:
                section, _, key = _key(name).partition(".")
                nested.setdefault(section, {})[key] = value
        return nested


class BudgetOverrides(_Overrides):
    """How much the run may make and spend."""

    gaps_max_gaps: int | None = _override("gaps.max_gaps")
    gaps_total_budget: int | None = _override("gaps.total_budget")
    synthesis_candidates_per_target: int | None = _override("synthesis.candidates_per_target")
    synthesis_max_run_tokens: int | None = _override("synthesis.max_run_tokens")
    synthesis_max_run_cost: float | None = _override("synthesis.max_run_cost")
    student_max_steps: int | None = _override("student.max_steps")


class ThresholdOverrides(_Overrides):
    """What the quality gate lets through."""

    checks_min_target_cosine: float | None = _override("checks.min_target_cosine")
    checks_duplicate_cosine: float | None = _override("checks.duplicate_cosine")
    checks_min_diversity_ratio: float | None = _override("checks.min_diversity_ratio")
    checks_min_gaps_reached: float | None = _override("checks.min_gaps_reached")
    checks_max_bias_ratio: float | None = _override("checks.max_bias_ratio")
    checks_contamination_cosine: float | None = _override("checks.contamination_cosine")


class TeacherOverrides(_Overrides):
    """How the teacher LLM is asked."""

    teacher_model: str | None = _override("teacher.model")
    teacher_temperature: float | None = _override("teacher.temperature")
    teacher_top_p: float | None = _override("teacher.top_p")
    teacher_max_tokens: int | None = _override("teacher.max_tokens")
    teacher_timeout_s: float | None = _override("teacher.timeout_s")


def _merge(base: dict[str, Any], fragment: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged = dict(base)
    for section, values in fragment.items():
        merged[section] = {**merged.get(section, {}), **values}
    return merged


def apply_overrides(config: FactoryConfig, *overrides: _Overrides) -> FactoryConfig:
    """`config` with every set override field applied, validated as the file would be."""
    fragment: dict[str, dict[str, Any]] = {}
    for group in overrides:
        for section, values in group.as_config().items():
            fragment.setdefault(section, {}).update(values)
    if not fragment:
        return config
    # re-validated in memory, never recorded: base URLs keep the credentials requests need
    kept = config.model_dump(mode="json", exclude_unset=True, context={KEEP_CREDENTIALS: True})
    data = _merge(kept, fragment)
    return FactoryConfig.from_dict(data, base_dir=config.base_dir)
