"""Settings of the celery executor and its workers, from the `execution` config section.

Plain Python: `assets/executors.py` turns them into a Dagster executor and `assets/cli/workers.py`
starts workers with them. A password in a broker or backend URL is only ever shown redacted.

Example:
    >>> redact_url("redis://:s3cret@10.0.0.5:6379/0")
    'redis://:***@10.0.0.5:6379/0'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from factory.config import ExecutionConfig
from factory.errors import ConfigError

__all__ = ["CelerySettings", "celery_settings", "redact_url"]

REDACTED = "***"


def redact_url(url: str) -> str:
    """`url` with the password of its user-info part replaced by `***` (other URLs unchanged)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{user}:{REDACTED}@{host}"))


def _with_password(url: str, password: str) -> str:
    """`url` with `password` (percent-encoded) as the password of its user-info part."""
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""  # as written in the URL, already encoded
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


@dataclass(frozen=True)
class CelerySettings:
    """What the executor and every worker must agree on: broker, result backend and queue."""

    broker: str = field(repr=False)
    backend: str = field(repr=False)
    queue: str

    def __repr__(self) -> str:
        return (
            f"CelerySettings(broker={redact_url(self.broker)!r}, "
            f"backend={redact_url(self.backend)!r}, queue={self.queue!r})"
        )

    @property
    def config_source(self) -> dict[str, Any]:
        """Celery app settings beyond the URLs (one task reserved per free worker process)."""
        return {"task_default_queue": self.queue, "worker_prefetch_multiplier": 1}

    def executor_config(self) -> dict[str, Any]:
        """The config of `dagster_celery.celery_executor`."""
        return {
            "broker": self.broker,
            "backend": self.backend,
            "config_source": self.config_source,
        }

    def describe(self) -> str:
        """One line for logs, passwords redacted."""
        return (
            f"broker {redact_url(self.broker)}, backend {redact_url(self.backend)}, "
            f"queue {self.queue!r}"
        )


def celery_settings(
    config: ExecutionConfig, environ: Mapping[str, str] | None = None
) -> CelerySettings:
    """The celery settings of `config`, the password from `config.password_env` put into both
    URLs (`environ` defaults to the process environment)."""
    broker, backend = config.broker, config.backend
    if config.password_env:
        env = os.environ if environ is None else environ
        password = env.get(config.password_env)
        if not password:
            msg = (
                f"execution.password_env names {config.password_env!r}, which is unset or "
                f"empty; export {config.password_env}=<broker password> for the run and the "
                "workers, or remove execution.password_env"
            )
            raise ConfigError(msg)
        broker, backend = _with_password(broker, password), _with_password(backend, password)
    return CelerySettings(broker=broker, backend=backend, queue=config.queue)
