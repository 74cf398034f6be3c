"""Wall time on dagster-celery with 1 worker vs 2 workers: one chained run, then shard runs at once.

Starts a throwaway `redis-server` on 127.0.0.1 and N `factory workers` (concurrency 1 each), then
times two things, each with warm-up runs first (each worker alone: its imports, model load, numba
caches) and then `--repeats` timed runs, each on a fresh output home (so nothing is embedded from
the cache; the embedding model itself is loaded again by each embedding step). In the timed runs
celery places the steps itself (no hand-off hook). Medians.

1. Chain: the round-1 run of the corpus-to-gaps slice of the `factory` job (the run that
   tests/assets/test_celery_executor.py checks) on a stdlib corpus of `--docs` documents. Its
   steps form a chain, so a second worker can take steps over but never run them side by side.
2. Shards: what a user with many shards does. `--shards` JSONL files of `--shard-docs` real
   texts each (stdlib docstrings, distinct per file) in `ingest.watch.folder`, one `shard`
   partition per file; one run of the `ingest` job (shard_ingest, then shard_embeddings) per
   shard partition, all launched at the same time, their steps on the celery executor. Each run
   is orchestrated in its own process, started (and warmed) before the timing, as Dagster's run
   launcher gives each run that the shard sensor requests its own process (runs in threads of
   one process deadlock in Dagster's logging setup). Timed: from the launch to the end of the
   last run.

Each run's line names the worker of every step and the seconds spent inside it (its
STEP_SUCCESS duration); the rest of a run's time is the hand-off (celery, the executor's 1 s
poll, resource set-up). About 5 minutes at the defaults on 2 cores.

    python benchmarks/celery_workers.py [--docs 500] [--shards 2] [--shard-docs 300]
        [--repeats 3] [--warmup 1]

Second to last measurement line: `celery_workers chain_ratio=C` (the chain's median seconds with
2 workers / with 1). Last line: `celery_workers ratio=R`, R = median seconds of the shard runs
with 2 workers / with 1 worker: 1/2 if two runs' steps could share the machine at no cost; where
one embedding step already keeps every core busy (torch uses them all), it is not below 1.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import dagster as dg  # noqa: E402

from assets.definitions import SHARD_ASSETS, build_resources  # noqa: E402
from assets.executors import executor_for  # noqa: E402
from assets.shards import INGEST_JOB, SHARD_PARTITION  # noqa: E402
from factory.config import FactoryConfig, load_config  # noqa: E402
from factory.corpus.sources import shard_sources  # noqa: E402
from tests.fixtures.celery import (  # noqa: E402
    REDIS_SERVER,
    TINY,
    celery_workers,
    dagster_instance,
    redis_server,
    run_round,
    step_workers,
    write_config,
)

MODULE = "benchmarks.celery_workers"
"""This module's import name: the workers rebuild `ingest_run_job` from it (run as a script,
`__name__` is `__main__`)."""


def ingest_run_job(config_path: str) -> dg.JobDefinition:
    """The `ingest` job (one shard: shard_ingest, then shard_embeddings) with the resources and
    the executor of `config_path`. Module level, so that the workers rebuild it by name."""
    config = load_config(config_path)
    defs = dg.Definitions(
        assets=SHARD_ASSETS,
        jobs=[INGEST_JOB],
        resources=build_resources(config_path),
        executor=executor_for(config),
    )
    return defs.resolve_job_def(INGEST_JOB.name)


def placed(instance: dg.DagsterInstance, run_id: str) -> str:
    """`step on worker (seconds in the step), ...` for one run, from its events."""
    ran_on = step_workers(instance, run_id)
    took = {
        record.dagster_event.step_key: record.dagster_event.event_specific_data.duration_ms / 1000
        for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
        if record.dagster_event is not None
    }
    return ", ".join(
        f"{step} on {host.split('@')[0]} ({took.get(step, float('nan')):.1f} s)"
        for step, host in ran_on.items()
    )


def run_once(config: Path, instance: dg.DagsterInstance, label: str) -> float:
    """Seconds of one chain run on a fresh output home (no embedding cache); prints where steps
    ran."""
    shutil.rmtree(config.parent / "home", ignore_errors=True)
    start = time.perf_counter()
    result = run_round(config, instance, alternate=False)
    elapsed = time.perf_counter() - start
    assert result.success
    print(f"{label}: {elapsed:.2f} s ({placed(instance, result.run_id)})", flush=True)
    return elapsed


_CHILD: dict[str, dg.DagsterInstance] = {}
"""In a launcher process: the Dagster instance its runs go to."""


def _launcher(dagster_home: str) -> None:
    """Set up one launcher process: the instance, and celery's duplicate-task warning off."""
    from celery.exceptions import DuplicateTaskNameWarning

    warnings.filterwarnings("ignore", category=DuplicateTaskNameWarning)
    _CHILD["instance"] = dg.DagsterInstance.local_temp(dagster_home)


@contextmanager
def launchers(count: int, dagster_home: Path) -> Iterator[Pool]:
    """`count` launcher processes (spawned, so none inherits this process's threads), each with
    its own instance on `dagster_home`; closed and joined on exit."""
    pool = multiprocessing.get_context("spawn").Pool(count, _launcher, (str(dagster_home),))
    try:
        yield pool
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.close()
        pool.join()


def run_shard(config: str, shard: str) -> tuple[float, str]:
    """In a launcher process: seconds and run id of one `ingest` run of partition `shard`."""
    job = dg.build_reconstructable_job(
        MODULE,
        ingest_run_job.__name__,
        reconstructable_args=(config,),
        reconstructor_working_directory=str(REPO),
    )
    start = time.perf_counter()
    result = dg.execute_job(
        job, instance=_CHILD["instance"], tags={"dagster/partition": shard}, raise_on_error=True
    )
    assert result.success
    return time.perf_counter() - start, result.run_id


def shards_once(
    config: Path, instance: dg.DagsterInstance, pool: Pool, shards: list[str], label: str
) -> float:
    """Seconds from launching one `ingest` run per shard at the same time (each in its own
    launcher process of `pool`) to the end of the last, on a fresh output home; prints each run
    and where its steps ran."""
    shutil.rmtree(config.parent / "home", ignore_errors=True)
    start = time.perf_counter()
    pending = [pool.apply_async(run_shard, (str(config.resolve()), shard)) for shard in shards]
    runs = [launched.get() for launched in pending]
    elapsed = time.perf_counter() - start
    each = "; ".join(
        f"{shard} {seconds:.2f} s: {placed(instance, run_id)}"
        for shard, (seconds, run_id) in zip(shards, runs, strict=True)
    )
    print(f"{label}: {elapsed:.2f} s ({each})", flush=True)
    return elapsed


def write_shards(folder: Path, shards: int, docs: int) -> None:
    """`shards` JSONL files of `docs` distinct stdlib docstrings each in `folder`."""
    from factory.corpus import ingest_corpus

    wanted = shards * docs
    config = FactoryConfig.from_dict({"ingest": {"max_documents": wanted}})
    texts = ingest_corpus(config).documents["text"].to_list()
    if len(texts) < wanted:
        raise SystemExit(f"the stdlib corpus has {len(texts)} documents, fewer than {wanted}")
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(shards):
        rows = texts[n * docs : (n + 1) * docs]
        lines = "".join(json.dumps({"text": text}) + "\n" for text in rows)
        (folder / f"shard-{n + 1}.jsonl").write_text(lines, encoding="utf-8")


def timed_runs(
    root: Path, broker: str, workers: int, args: argparse.Namespace, inbox: Path
) -> tuple[list[float], list[float]]:
    """Seconds of each timed chain run, then of each timed batch of shard runs, with `workers`
    workers. Before each series, each worker runs `args.warmup` untimed ones alone (the others'
    consumers cancelled), so that none is cold when timed."""
    from celery import Celery

    execution = {"executor": "celery", "broker": f"{broker}/0", "backend": f"{broker}/1"}
    chain = write_config(
        root / "chain", {**TINY, "ingest": {"max_documents": args.docs}, "execution": execution}
    )
    watch = {"folder": str(inbox), "license": "PSF-2.0"}
    sharded = write_config(
        root / "shards",
        {"home": "home", "sources": [], "ingest": {"watch": watch}, "execution": execution},
    )
    shards = list(shard_sources(load_config(sharded)))
    names = tuple(f"b{i + 1}@bench" for i in range(workers))
    control = Celery("bench", broker=f"{broker}/0").control
    queue = load_config(chain).execution.queue

    def warm_each(run: Callable[[str], float]) -> None:
        for name in names:
            others = [other for other in names if other != name]
            if others:
                control.cancel_consumer(queue, destination=others, reply=True)
            for n in range(args.warmup):
                run(f"{workers} worker(s), warm-up {n + 1} on {name}")
            if others:
                control.add_consumer(queue, destination=others, reply=True)

    with (
        dagster_instance(root / "dagster") as instance,
        celery_workers(chain, root / "dagster", names, root / "logs") as started,
        launchers(len(shards), root / "dagster") as pool,
    ):
        instance.add_dynamic_partitions(SHARD_PARTITION, shards)
        started.wait_ready()
        warm_each(lambda label: run_once(chain, instance, f"chain, {label}"))
        label = f"chain, {workers} worker(s), run"
        chained = [run_once(chain, instance, f"{label} {n + 1}") for n in range(args.repeats)]
        warm_each(lambda label: shards_once(sharded, instance, pool, shards, f"shards, {label}"))
        label = f"shards, {workers} worker(s), run"
        at_once = [
            shards_once(sharded, instance, pool, shards, f"{label} {n + 1}")
            for n in range(args.repeats)
        ]
        return chained, at_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=500, help="chain: stdlib documents (500)")
    parser.add_argument("--shards", type=int, default=2, help="shard runs at once (default 2)")
    parser.add_argument("--shard-docs", type=int, default=300, help="texts per shard (300)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setup (default 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per worker first")
    args = parser.parse_args()
    if not REDIS_SERVER.is_file():
        print(f"skipped: {REDIS_SERVER} is missing (`make deps` installs redis-server)")
        return
    # dagster-celery 0.29.27 registers its task once per submitted step; celery 5.7 warns.
    from celery.exceptions import DuplicateTaskNameWarning

    warnings.filterwarnings("ignore", category=DuplicateTaskNameWarning)

    chain: dict[int, float] = {}
    shards: dict[int, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="celery_workers-") as tmp,
        redis_server(Path(tmp) / "redis") as broker,
    ):
        inbox = Path(tmp) / "inbox"
        write_shards(inbox, args.shards, args.shard_docs)
        for workers in (1, 2):
            root = Path(tmp) / f"workers-{workers}"
            chained, at_once = timed_runs(root, broker, workers, args, inbox)
            chain[workers] = statistics.median(chained)
            shards[workers] = statistics.median(at_once)

    common = f"repeats={args.repeats} warmup={args.warmup} worker_concurrency=1"
    print(f"chain: docs={args.docs} steps=4 {common}")
    for workers, median in chain.items():
        print(f"  {workers} worker(s): {median:.2f} s per run (median)")
    print(f"celery_workers chain_ratio={chain[2] / chain[1]:.3f}")
    print(
        f"shards: {args.shards} ingest runs at once, shard_docs={args.shard_docs} "
        f"steps={2 * args.shards} {common}"
    )
    for workers, median in shards.items():
        print(f"  {workers} worker(s): {median:.2f} s for all {args.shards} runs (median)")
    print(f"celery_workers ratio={shards[2] / shards[1]:.3f}")


if __name__ == "__main__":
    main()
