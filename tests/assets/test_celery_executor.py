"""The pipeline on dagster-celery: a real Redis broker, two real `factory workers`, one round.

A throwaway `redis-server` and two workers (`python -m assets.cli_workers`, concurrency 1) run on
127.0.0.1; the round-1 partition of the corpus-to-gaps slice of the `factory` job runs with
`execution.executor: celery`, and the same slice runs again in one process on a copy of the config
(another home). Doc ids and row counts must match, the embeddings to 1e-5.

Why both workers certainly execute steps: the slice is a chain (corpus, embeddings, map, gaps),
so each step is only sent once the previous one is done and whichever idle worker pops it first
would get it. The run under test therefore carries `hand_off`, a success hook that runs inside the
worker before its celery task returns: it asks every worker to consume the queue, then tells its
own worker to stop (and waits for that worker's reply). The next step can only be sent after the
task returned, and then only the other worker listens: the steps alternate between the two
workers, whatever the timing. Which worker ran each step is read back from the run's own
"Executing steps ... in celery worker" events.

Select with `-k celery`; skipped where /usr/bin/redis-server is missing (`make deps`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from assets.cli_workers import worker_argv
from assets.definitions import ALL_ASSETS, build_resources
from assets.executors import executor_for
from assets.instance import DAGSTER_YAML
from assets.rounds import add_round
from factory.config import FactoryConfig, load_config
from factory.errors import FactoryError
from factory.execution import celery_settings
from factory.serving import free_port

REPO = Path(__file__).resolve().parents[2]
REDIS_SERVER = Path("/usr/bin/redis-server")
WORKERS = ("w1@factory-test", "w2@factory-test")
UNTIL = "coverage_gaps"
"""The last asset of the slice under test: corpus, embeddings, map, gaps (the first round-
partitioned asset)."""

TINY = {
    "home": "home",
    "ingest": {"max_documents": 200},
    "map": {"n_neighbors": 10},
    "gaps": {"max_gaps": 5, "total_budget": 5, "anchors_per_gap": 3},
}

# dagster-celery 0.29.27 registers its `execute_plan` task again on every step it submits, which
# celery 5.7 warns about once per app; the task is the same either way.
IGNORE_DUPLICATE_TASK = pytest.mark.filterwarnings(
    "ignore::celery.exceptions.DuplicateTaskNameWarning"
)


@dg.success_hook
def hand_off(context: dg.HookContext) -> None:
    """On a celery worker, after a step succeeded: every worker consumes the queue again, then
    this one stops (acknowledged before the task returns), so the next step goes elsewhere.
    Needs at least two workers: with one, nobody would take the next step."""
    from celery import current_task

    if current_task is None or not current_task.request.hostname:
        return
    queue = current_task.app.conf.task_default_queue
    control = current_task.app.control
    control.add_consumer(queue)  # broadcast; a no-op where the worker already consumes it
    me = current_task.request.hostname
    replies = control.cancel_consumer(queue, destination=[me], reply=True, timeout=10)
    context.log.info(f"{me} hands the queue {queue!r} on: {replies}")


def factory_run_job(config_path: str, alternate: bool = True) -> dg.JobDefinition:
    """The run under test: the `factory` job's assets up to `UNTIL`, with the resources and the
    executor of `config_path` (on celery, with `hand_off` unless `alternate` is false). Module
    level, so that the workers rebuild it by name; adapt it here when the job's layout changes."""
    config = load_config(config_path)
    celery = config.execution.executor == "celery"
    job = dg.define_asset_job(
        "factory",
        selection=dg.AssetSelection.assets(UNTIL).upstream().required_multi_asset_neighbors(),
        hooks={hand_off} if celery and alternate else None,
    )
    defs = dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[job],
        resources=build_resources(config_path),
        executor=executor_for(config),
    )
    return defs.resolve_job_def("factory")


def run_round(
    config: Path, instance: dg.DagsterInstance, round_number: int = 1, alternate: bool = True
) -> dg.JobExecutionResult:
    """Execute `factory_run_job(config, alternate)` for round `round_number` on `instance`."""
    job = dg.build_reconstructable_job(
        factory_run_job.__module__,
        factory_run_job.__name__,
        reconstructable_args=(str(config.resolve()), alternate),
        reconstructor_working_directory=str(REPO),
    )
    key = add_round(instance, round_number)
    return dg.execute_job(
        job, instance=instance, tags={"dagster/partition": key}, raise_on_error=True
    )


def write_config(root: Path, config: dict[str, Any]) -> Path:
    """`root/factory.yaml` holding `config`."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / "factory.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def dagster_instance(home: Path) -> dg.DagsterInstance:
    """A persistent instance in `home` (created, telemetry off): celery needs one that the
    workers can open too."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    return dg.DagsterInstance.local_temp(str(home))


@contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A throwaway redis-server on 127.0.0.1 (no persistence, files in `folder`); its URL."""
    import redis

    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = [str(REDIS_SERVER), "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--dir", str(folder)]
    with (folder / "redis.log").open("w") as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    try:
        client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((folder / "redis.log").read_text()) from None
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@dataclass
class Workers:
    """Started `factory workers` processes, by worker name."""

    config: Path
    procs: dict[str, subprocess.Popen[bytes]]
    logs: Path

    def wait_ready(self, timeout: float = 120) -> None:
        """Return once every worker answers a celery ping; raise if one died or time ran out."""
        from celery import Celery

        settings = celery_settings(load_config(self.config).execution)
        app = Celery("factory-test", broker=settings.broker, backend=settings.backend)
        deadline = time.monotonic() + timeout
        try:
            while True:
                answered = {host for reply in app.control.ping(timeout=0.5) for host in reply}
                if answered >= set(self.procs):
                    return
                dead = [name for name, proc in self.procs.items() if proc.poll() is not None]
                if dead or time.monotonic() > deadline:
                    raise RuntimeError(f"workers {dead or list(self.procs)} down; see {self.logs}")
                time.sleep(0.5)
        finally:
            app.close()


@contextmanager
def celery_workers(
    config: Path, home: Path, names: tuple[str, ...], logs: Path
) -> Iterator[Workers]:
    """`python -m assets.cli_workers` once per name (concurrency 1, own process group, output in
    `logs/NAME.log`) on the Dagster home `home`, stopped (process group) on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    workers = Workers(config, {}, logs)
    with ExitStack() as files:
        try:
            for name in names:
                log = files.enter_context((logs / f"{name.split('@')[0]}.log").open("w"))
                argv = [sys.executable, "-m", "assets.cli_workers", "--config", str(config)]
                argv += ["--name", name, "--concurrency", "1"]
                workers.procs[name] = subprocess.Popen(
                    argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            yield workers
        finally:
            for proc in workers.procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            for proc in workers.procs.values():
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(5)


def step_workers(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """Step key -> hostname of the celery worker that executed it, from the run's events."""
    found = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        metadata = event.engine_event_data.metadata if event else {}
        if event is not None and event.step_key and "Celery worker" in metadata:
            found[event.step_key] = str(metadata["Celery worker"].value)
    return found


def outputs(home: Path) -> dict[str, pl.DataFrame]:
    """The tables the slice wrote under `home`, the embeddings from LanceDB."""
    from factory.embedding import EmbeddingStore

    tables = home / "tables"
    found = {p.stem: pl.read_parquet(p) for p in tables.glob("*.parquet")}
    found[UNTIL] = pl.read_parquet(tables / UNTIL / "1.parquet")
    found["document_embeddings"] = EmbeddingStore(home / "lancedb").read_embeddings()
    return found


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[str]:
    if not REDIS_SERVER.is_file():
        pytest.skip(f"{REDIS_SERVER} is missing: `make deps` installs Debian's redis-server")
    with redis_server(tmp_path / "redis") as url:
        yield url


@pytest.mark.parametrize(
    ("execution", "name"),
    [
        ({}, "multiprocess"),
        ({"executor": "in_process"}, "in_process"),
        ({"executor": "celery"}, "celery"),
    ],
)
def test_executor_for_names_the_configured_executor(execution: dict[str, str], name: str) -> None:
    config = FactoryConfig.from_dict({"execution": execution})
    assert executor_for(config).name == name


def test_workers_listen_on_the_configured_queue() -> None:
    execution = {"executor": "celery", "broker": "redis://b:1/0", "backend": "redis://b:1/1"}
    config = FactoryConfig.from_dict({"execution": {**execution, "queue": "gpu"}})
    assert executor_for(config).name == "celery"
    argv = worker_argv(celery_settings(config.execution), "w1", 2, "INFO")
    assert {
        "--hostname=w1@%h",
        "--concurrency=2",
        "--queues=gpu",
        "--prefetch-multiplier=1",
    } <= set(argv)


def test_celery_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dagster_celery", None)
    with pytest.raises(FactoryError, match=r"pip install .*distributed"):
        executor_for(FactoryConfig.from_dict({"execution": {"executor": "celery"}}))


def test_workers_is_a_factory_command() -> None:
    from typer.testing import CliRunner

    from assets.cli import app

    result = CliRunner().invoke(app, ["workers", "--help"])
    assert result.exit_code == 0, result.output
    assert "--concurrency" in result.output


@pytest.mark.slow
@IGNORE_DUPLICATE_TASK
def test_celery_run_on_two_workers_equals_a_single_process_run(tmp_path: Path, broker: str) -> None:
    execution = {"executor": "celery", "broker": f"{broker}/0", "backend": f"{broker}/1"}
    celery_config = write_config(tmp_path / "celery", {**TINY, "execution": execution})
    local_config = write_config(
        tmp_path / "local", {**TINY, "execution": {"executor": "in_process"}}
    )
    home = tmp_path / "celery" / "dagster"
    with ExitStack() as stack:
        instance = stack.enter_context(dagster_instance(home))
        local = stack.enter_context(dagster_instance(tmp_path / "local" / "dagster"))
        workers = stack.enter_context(
            celery_workers(celery_config, home, WORKERS, tmp_path / "logs")
        )
        reference = run_round(local_config, local)  # in this process, while the workers start
        workers.wait_ready()
        result = run_round(celery_config, instance)
        ran_on = step_workers(instance, result.run_id)
    assert reference.success
    assert result.success

    steps = {e.step_key for e in reference.all_events if e.is_step_success}
    assert set(ran_on) == steps, ran_on
    assert set(ran_on.values()) == set(WORKERS), ran_on

    got, want = outputs(tmp_path / "celery" / "home"), outputs(tmp_path / "local" / "home")
    assert sorted(got) == sorted(want)
    assert {"corpus_documents", "document_embeddings", "semantic_map", UNTIL} <= set(got)
    for name, frame in want.items():
        assert got[name].height == frame.height, name
        for ids in {"doc_id", "cluster_id", "gap_id"} & set(frame.columns):
            assert got[name][ids].to_list() == frame[ids].to_list(), (name, ids)
    vectors = [t["document_embeddings"].sort("doc_id")["vector"].to_numpy() for t in (got, want)]
    np.testing.assert_allclose(*vectors, atol=1e-5)
