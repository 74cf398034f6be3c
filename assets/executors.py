"""The executor of the project's jobs, chosen by the `execution` config section."""

from __future__ import annotations

from typing import Any

import dagster as dg

from factory.config import FactoryConfig
from factory.errors import FactoryError
from factory.execution import celery_settings

__all__ = ["EXECUTORS", "executor_for", "import_dagster_celery"]

EXECUTORS = ("multiprocess", "in_process", "celery")
"""The names `execution.executor` accepts."""

INSTALL_HINT = "pip install -c constraints.txt -e '.[distributed]'"


def import_dagster_celery() -> Any:
    """The `dagster_celery` module, or a `FactoryError` that says how to install it."""
    try:
        import dagster_celery
    except ImportError as exc:
        msg = (
            f"execution.executor is 'celery' but dagster-celery is not installed ({exc}); "
            f"install the distributed extra: {INSTALL_HINT}, or set execution.executor to "
            "'multiprocess'"
        )
        raise FactoryError(msg) from exc
    return dagster_celery


def executor_for(config: FactoryConfig) -> dg.ExecutorDefinition:
    """The executor that `config.execution` names, configured from it.

    Example:
        >>> executor_for(FactoryConfig()).name
        'multiprocess'
    """
    execution = config.execution
    if execution.executor == "multiprocess":
        if execution.max_concurrent is None:
            return dg.multiprocess_executor
        return dg.multiprocess_executor.configured({"max_concurrent": execution.max_concurrent})
    if execution.executor == "in_process":
        return dg.in_process_executor
    if execution.executor == "celery":
        settings = celery_settings(execution)
        executor: dg.ExecutorDefinition = import_dagster_celery().celery_executor
        return executor.configured(settings.executor_config(), name="celery")
    msg = f"unknown executor {execution.executor!r}; expected one of {list(EXECUTORS)}"
    raise FactoryError(msg)
