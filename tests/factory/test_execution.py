"""Celery settings from the `execution` section: passwords in, never out."""

from __future__ import annotations

import pytest

from factory.config import ExecutionConfig, FactoryConfig
from factory.errors import ConfigError
from factory.execution import CelerySettings, celery_settings, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:s3cret@10.0.0.5:6379/0", "redis://:***@10.0.0.5:6379/0"),
        ("redis://factory:s3cret@broker:6379/1", "redis://factory:***@broker:6379/1"),
        ("rediss://:p@ss@broker:6380/0", "rediss://:***@broker:6380/0"),
        ("amqp://guest:guest@rabbit:5672//", "amqp://guest:***@rabbit:5672//"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://factory@broker:6379/0", "redis://factory@broker:6379/0"),
    ],
)
def test_redact_url_hides_only_the_password(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_defaults_are_a_local_redis_and_the_dagster_queue() -> None:
    execution = FactoryConfig.from_dict({}).execution
    assert execution.executor == "multiprocess"
    settings = celery_settings(execution.model_copy(update={"executor": "celery"}))
    assert (settings.broker, settings.backend) == (
        "redis://127.0.0.1:6379/0",
        "redis://127.0.0.1:6379/1",
    )
    assert settings.executor_config()["config_source"] == {
        "task_default_queue": "dagster",
        "worker_prefetch_multiplier": 1,
    }


def test_password_env_goes_into_both_urls_and_stays_out_of_repr() -> None:
    config = ExecutionConfig(
        executor="celery",
        broker="redis://factory@broker:6379/0",
        backend="redis://broker:6379/1",
        queue="gpu",
        password_env="FACTORY_BROKER_PASSWORD",
    )
    settings = celery_settings(config, environ={"FACTORY_BROKER_PASSWORD": "p@ss/word"})
    assert settings.broker == "redis://factory:p%40ss%2Fword@broker:6379/0"
    assert settings.backend == "redis://:p%40ss%2Fword@broker:6379/1"
    assert settings.executor_config()["config_source"]["task_default_queue"] == "gpu"
    for text in (repr(settings), settings.describe()):
        assert "p%40ss" not in text
        assert "***" in text
    assert "gpu" in settings.describe()


def test_unset_password_env_is_a_config_error_naming_the_variable() -> None:
    config = ExecutionConfig(executor="celery", password_env="FACTORY_BROKER_PASSWORD")
    with pytest.raises(ConfigError, match=r"FACTORY_BROKER_PASSWORD.*unset or empty"):
        celery_settings(config, environ={"FACTORY_BROKER_PASSWORD": ""})


def test_settings_without_password_env_are_the_urls_as_given() -> None:
    config = ExecutionConfig(broker="redis://:inline@b:6379/0", backend="redis://b:6379/1")
    assert celery_settings(config, environ={}) == CelerySettings(
        broker="redis://:inline@b:6379/0", backend="redis://b:6379/1", queue="dagster"
    )
