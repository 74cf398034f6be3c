"""`factory workers`: a celery worker that executes the steps of runs whose executor is celery.

It reads the same `factory.yaml` as the run (broker, backend and queue from `execution`), and
passes the config path (`$FACTORY_CONFIG`) and the Dagster home (`$DAGSTER_HOME`, else
HOME/dagster) on to the steps it runs. Start one per machine, or several with distinct names.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from factory.config import FactoryConfig, load_config
from factory.execution import CelerySettings, celery_settings

__all__ = ["celery_app", "main", "worker_argv", "workers"]


def celery_app(settings: CelerySettings) -> Any:
    """A celery app with dagster-celery's tasks, on `settings`' broker, backend and queue."""
    from assets.executors import import_dagster_celery

    import_dagster_celery()
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

    executor = CeleryExecutor.for_cli(**settings.executor_config())
    app = make_app(executor.app_args())  # a queue other than "dagster" is created on first use
    for make_task in (create_task, create_execute_job_task, create_resume_job_task):
        make_task(app)
    return app


def worker_argv(settings: CelerySettings, name: str, concurrency: int, loglevel: str) -> list[str]:
    """The `celery worker` arguments of one worker named `name@host`."""
    return [
        "worker",
        f"--hostname={name if '@' in name else name + '@%h'}",
        f"--concurrency={concurrency}",
        f"--queues={settings.queue}",
        f"--loglevel={loglevel}",
        "--prefetch-multiplier=1",
        "--without-gossip",
        "--without-mingle",
    ]


def _prepare_environment(cfg: FactoryConfig, config: Path | None) -> None:
    from assets.instance import dagster_home
    from assets.resources import CONFIG_ENV

    if config is not None:
        os.environ[CONFIG_ENV] = str(Path(config).resolve())
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = str(dagster_home(cfg))


def workers(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Path to factory.yaml (default: $FACTORY_CONFIG, ./factory.yaml or defaults).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            "-n",
            help="Worker name (default: factory-PID); `@host` is added unless given.",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Steps this worker runs at once (processes).")
    ] = 1,
    loglevel: Annotated[str, typer.Option(help="Celery log level.")] = "INFO",
) -> None:
    """Start a celery worker for runs whose `execution.executor` is `celery`."""
    path = config or os.environ.get("FACTORY_CONFIG")
    if path is None and Path("factory.yaml").is_file():
        path = "factory.yaml"
    cfg = load_config(path)
    _prepare_environment(cfg, Path(path) if path else None)
    settings = celery_settings(cfg.execution)
    name = name or f"factory-{os.getpid()}"
    typer.echo(f"factory worker {name} on {socket.gethostname()}: {settings.describe()}")
    celery_app(settings).worker_main(worker_argv(settings, name, concurrency, loglevel))


def main() -> None:
    """`python -m assets.cli.workers`: the `workers` command on its own, errors on one line."""
    from factory.errors import FactoryError

    try:
        typer.run(workers)
    except FactoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
