"""Launchpad overrides: described fields that change one run's config on top of factory.yaml."""

from __future__ import annotations

from pathlib import Path

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


def test_the_launchpad_cannot_point_the_run_at_another_config_file(tmp_path: Path) -> None:
    pinned, other = tmp_path / "pinned.yaml", tmp_path / "other.yaml"
    pinned.write_text("home: pinned-home\n", encoding="utf-8")
    other.write_text("home: other-home\n", encoding="utf-8")
    homes: list[Path] = []

    @dg.asset
    def probe(factory: FactoryResource) -> None:
        homes.append(factory.config.home_dir)

    resources = {"factory": FactoryResource(config_path=str(pinned))}
    override = {"resources": {"factory": {"config": {"config_path": str(other)}}}}
    with pytest.raises(dg.DagsterInvalidConfigError, match="config_path"):
        dg.materialize([probe], resources=resources, run_config=override)
    assert homes == []
    budgets = {"resources": {"factory": {"config": {"budgets": {"gaps_total_budget": 5}}}}}
    assert dg.materialize([probe], resources=resources, run_config=budgets).success
    assert homes == [tmp_path / "pinned-home"]
    assert FactoryResource(config_path=str(pinned)).config_path == str(pinned)


def test_the_launchpad_schema_has_no_config_path() -> None:
    from assets.definitions import defs

    schema = defs.resolve_job_def("factory").run_config_schema.config_type
    factory = schema.fields["resources"].config_type.fields["factory"].config_type
    assert "config_path" not in factory.fields["config"].config_type.fields
    assert {"budgets", "thresholds", "teacher"} <= set(factory.fields["config"].config_type.fields)


def test_overrides_keep_the_endpoint_credentials_the_client_needs() -> None:
    url = "https://bob:Hunter2Pw@127.0.0.1:8080/v1?api_key=QueryKey99"
    config = FactoryConfig.from_dict({"teacher": {"backend": "openai", "base_url": url}})
    changed = apply_overrides(config, TeacherOverrides(teacher_temperature=0.2))
    assert (changed.teacher.base_url, changed.teacher.temperature) == (url, 0.2)
    assert "Hunter2Pw" not in changed.teacher.model_dump_json()


def test_the_experiment_launchpad_chooses_the_mode_only() -> None:
    from assets.definitions import defs

    schema = defs.resolve_job_def("utility_experiment_job").run_config_schema.config_type
    op = schema.fields["ops"].config_type.fields["utility_experiment"].config_type
    assert set(op.fields["config"].config_type.fields) == {"quick", "standard"}
    resource = schema.fields["resources"].config_type.fields["experiment"].config_type
    config_fields = resource.fields.get("config")
    assert config_fields is None or not {"config_path", "work_dir"} & set(
        getattr(config_fields.config_type, "fields", {})
    )


def test_the_experiment_launchpad_cannot_read_another_file(tmp_path: Path) -> None:
    from assets.experiments import ExperimentResource, utility_experiment

    resources = {"experiment": ExperimentResource(config_path=str(tmp_path / "pinned.yaml"))}
    for override in (
        {"ops": {"utility_experiment": {"config": {"config_path": "/etc/other.yaml"}}}},
        {"ops": {"utility_experiment": {"config": {"work_dir": str(tmp_path / "elsewhere")}}}},
        {"resources": {"experiment": {"config": {"config_path": "/etc/other.yaml"}}}},
    ):
        with pytest.raises(dg.DagsterInvalidConfigError):
            dg.materialize([utility_experiment], resources=resources, run_config=override)
    assert not (tmp_path / "elsewhere").exists()
