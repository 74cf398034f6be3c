"""The pipeline on dagster-celery: a real Redis broker, two real `factory workers`, one round.

A throwaway `redis-server` and two workers (`python -m assets.cli.workers`, concurrency 1) run on
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

import sys
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import pytest

from assets.cli.workers import worker_argv
from assets.executors import executor_for
from factory.config import FactoryConfig
from factory.errors import FactoryError
from factory.execution import celery_settings
from tests.fixtures.celery import (
    IGNORE_DUPLICATE_TASK,
    TINY,
    UNTIL,
    WORKERS,
    celery_workers,
    dagster_instance,
    outputs,
    run_round,
    step_workers,
    write_config,
)


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
