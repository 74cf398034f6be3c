"""Launchpad overrides: described fields that change one run's config on top of factory.yaml."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.launchpad import BudgetOverrides, TeacherOverrides, ThresholdOverrides, apply_overrides
from assets.resources import FactoryResource
from factory.config import FactoryConfig, config_keys
from factory.errors import ConfigError

GROUPS = (BudgetOverrides, ThresholdOverrides, TeacherOverrides)


def test_every_launchpad_field_is_described_and_names_a_config_key() -> None:
    keys = config_keys()
    for name, field in FactoryResource.model_fields.items():
        assert field.description, name
    for group in GROUPS:
        assert group.__doc__
        for name, field in group.model_fields.items():
            section, _, key = name.partition("_")
            assert f"{section}.{key}" in keys, name
            assert field.description
            assert field.description.startswith(keys[f"{section}.{key}"])


def test_launchpad_run_config_overrides_the_file_for_that_run() -> None:
    seen: list[FactoryConfig] = []

    @dg.asset
    def probe(factory: FactoryResource) -> None:
        seen.append(factory.config)

    run_config = {
        "resources": {
            "factory": {
                "config": {
                    "budgets": {"gaps_total_budget": 5, "student_max_steps": 3},
                    "thresholds": {"checks_max_bias_ratio": 2.5},
                    "teacher": {"teacher_temperature": 0.3},
                }
            }
        }
    }
    result = dg.materialize(
        [probe], resources={"factory": FactoryResource()}, run_config=run_config
    )
    assert result.success
    (config,) = seen
    defaults = FactoryConfig.from_dict({})
    assert (config.gaps.total_budget, config.student.max_steps) == (5, 3)
    assert config.checks.max_bias_ratio == 2.5
    assert config.teacher.temperature == 0.3
    assert config.gaps.max_gaps == defaults.gaps.max_gaps  # untouched keys keep the file's value


def test_an_invalid_override_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"gaps\.total_budget"):
        apply_overrides(FactoryConfig.from_dict({}), BudgetOverrides(gaps_total_budget=-1))
