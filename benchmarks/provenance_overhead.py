"""Wall time of a real pipeline run with provenance on vs off (`lineage.enabled`).

Claim: audit-grade provenance (an OpenLineage START and COMPLETE event and a hash-chained,
fsynced ledger record per asset step, plus the quality gate's ledger record) adds little to a
pipeline run: the ratio of the medians is close to 1.

Setup, in this process: `--rows` banking77 train rows (every k-th row, so most intents appear)
as a CSV source, task classification, a small run (`--budget` synthetic samples, 2 candidates
per target, 40 tokens per answer). What is materialized is everything up to and including
`synthetic_samples` and its quality gates: corpus_documents, corpus_quarantine,
document_embeddings, semantic_map, clusters, coverage_gaps, synthesis_plan, synthetic_samples,
synthetic_rejects and the `quality_gates` check, i.e. 6 `lineage_step`s and 1 quality record
(12 events, 7 ledger records). The student and the release are left out (minutes of training
that lineage does not touch).

One untimed run first fills the teacher and perplexity caches (`HOME/cache`) and loads the
embedder and the reference LM into the process. Every timed run then starts from a fresh home
and a fresh Dagster instance (so embedding, the map and the gate are computed again) seeded
with a copy of that cache, so both sides do the same work and no side pays the teacher: the
llama.cpp server still starts (synthesis asks for it) but every answer comes from the cache.
Only the `dg.materialize` call is timed.

- on: `lineage.enabled: true` (the default).
- off: `lineage.enabled: false`; same config otherwise. Both sides read the same stored input
  versions (those lookups are not lineage-only and are in both timings).

`--repeats` runs per side, interleaved (on/off, then off/on, ...); medians. Each run's samples
are compared with the warm-up's (same ids and texts) to show both sides did the same work. Then
the lineage work of one step is timed on its own, outside Dagster: a fresh emitter's START and
COMPLETE events and one ledger append (with the real `synthetic_samples` record body), each
`--direct` times, and the one-time import of the OpenLineage client in a fresh interpreter that
has already imported the pipeline's definitions.
At the defaults it runs for about 4-7 minutes on 2 cores (the warm-up, which generates the
teacher answers and scores the reference rows, is about 2 of them); longer on shared cores.
The direct figure is the expected difference; where it is far below the runs' spread (printed
with each median), read the ratio as 1 within noise.

    .venv/bin/python benchmarks/provenance_overhead.py [--rows 300] [--repeats 9] [--budget 5]

Last line: `provenance_overhead ratio=R`, R = on median seconds / off median seconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import banking77_and_teacher_or_skip  # noqa: E402

SELECTION = [
    "corpus_documents",
    "corpus_quarantine",
    "document_embeddings",
    "semantic_map",
    "clusters",
    "coverage_gaps",
    "synthesis_plan",
    "synthetic_samples",
    "synthetic_rejects",
]

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
"""Dagster's console logger at WARNING: the run's DEBUG events would bury the figures."""

IMPORT_OPENLINEAGE = """
import time
import assets.definitions  # what a pipeline process has loaded before its first step
start = time.perf_counter()
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import RunEvent
from openlineage.client.serde import Serde
from openlineage.client.transport.file import FileTransport
print((time.perf_counter() - start) * 1000)
"""


def _config(csv: Path, enabled: bool, budget: int, threads: int) -> dict[str, Any]:
    source = {
        "id": "banking77",
        "kind": "csv",
        "path": str(csv),
        "fields": {"category": "label"},
        "license": "CC-BY-4.0",
    }
    return {
        "home": "home",
        "task": {"kind": "classification"},
        "sources": [source],
        "map": {"n_neighbors": 10},
        "gaps": {"max_gaps": budget, "total_budget": budget, "anchors_per_gap": 3},
        "teacher": {"max_tokens": 40, "n_threads": threads},
        "synthesis": {"candidates_per_target": 2, "examples_in_prompt": 2},
        "lineage": {"enabled": enabled},
    }


def _materialize(root: Path, config: dict[str, Any], cache: Path | None) -> float:
    """Write `root/factory.yaml`, seed `root/home/cache` from `cache`, materialize; seconds."""
    import dagster as dg
    import yaml

    from assets.definitions import ALL_ASSETS, ALL_CHECKS, build_resources
    from assets.rounds import add_round

    root.mkdir(parents=True)
    (root / "factory.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    if cache is not None:
        shutil.copytree(cache, root / "home" / "cache")
    (root / "dagster").mkdir()
    (root / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.local_temp(str(root / "dagster")) as instance:
        partition = add_round(instance, 1)
        start = time.perf_counter()
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            resources=build_resources(str(root / "factory.yaml")),
            instance=instance,
            selection=dg.AssetSelection.assets(*SELECTION),
            partition_key=partition,
            raise_on_error=True,
            run_config=QUIET,
        )
        seconds = time.perf_counter() - start
    assert result.success
    return seconds


def _samples(home: Path) -> list[tuple[str, str]]:
    import polars as pl

    frame = pl.read_parquet(home / "tables" / "synthetic_samples" / "1.parquet")
    return sorted(zip(frame["sample_id"].to_list(), frame["text"].to_list(), strict=True))


def _provenance(home: Path) -> tuple[int, int]:
    """(ledger records, OpenLineage events) written under `home`; (0, 0) when none."""
    from factory.home import Home
    from lineage import Ledger, OpenLineageEmitter

    if not (home / "provenance").exists():
        return 0, 0
    records = Ledger(Home(home).ledger).records()
    return len(records), len(OpenLineageEmitter(Home(home).openlineage).events())


def _direct(warm_home: Path, folder: Path, times: int) -> dict[str, float]:
    """Median milliseconds of one step's lineage work, timed outside Dagster."""
    from assets.lineage_step import NAMESPACE
    from factory.home import Home
    from factory.schemas import SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES
    from lineage import DatasetRef, Ledger, OpenLineageEmitter

    (body,) = [
        r["body"]
        for r in Ledger(Home(warm_home).ledger).records("materialization")
        if r["body"]["asset"] == "synthetic_samples"
    ]
    inputs = [DatasetRef(NAMESPACE, name, version=v) for name, v in body["inputs"].items()]
    outputs = [
        DatasetRef(
            NAMESPACE,
            schema.name,
            [(c.name, str(c.dtype), c.meaning) for c in schema.columns],
            body["outputs"][schema.name]["data_version"],
            schema.name,
            body["outputs"][schema.name]["rows"],
        )
        for schema in (SYNTHETIC_SAMPLES, SYNTHETIC_REJECTS)
    ]
    parent = (str(uuid.uuid4()), "__ephemeral_asset_job__")
    events_ms: list[float] = []
    ledger_ms: list[float] = []
    for _ in range(times):
        start = time.perf_counter()
        emitter = OpenLineageEmitter(Home(folder).openlineage, namespace=NAMESPACE)
        run_id = str(uuid.uuid4())
        emitter.start(run_id, "synthetic_samples", inputs, parent=parent)
        emitter.complete(run_id, "synthetic_samples", inputs, outputs, parent=parent)
        middle = time.perf_counter()
        Ledger(Home(folder).ledger).append("materialization", body)
        end = time.perf_counter()
        events_ms.append((middle - start) * 1000)
        ledger_ms.append((end - middle) * 1000)
    imports = subprocess.run(
        [sys.executable, "-c", IMPORT_OPENLINEAGE],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return {
        "import": float(imports.stdout.strip()),
        "events": statistics.median(events_ms),
        "ledger": statistics.median(ledger_ms),
        "step": statistics.median(e + w for e, w in zip(events_ms, ledger_ms, strict=True)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300, help="banking77 train rows (300)")
    parser.add_argument("--repeats", type=int, default=9, help="timed runs per side (9)")
    parser.add_argument("--budget", type=int, default=5, help="synthetic samples requested (5)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp server threads (2)")
    parser.add_argument("--direct", type=int, default=100, help="direct lineage timings (100)")
    args = parser.parse_args()

    found = banking77_and_teacher_or_skip()
    if found is None:
        return
    path = found[0]
    for name, value in {
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
    }.items():
        os.environ.setdefault(name, value)
    import dagster as dg

    warnings.simplefilter("ignore", dg.BetaWarning)  # Output(data_version=...), on both sides
    warnings.simplefilter("ignore", dg.PreviewWarning)

    with tempfile.TemporaryDirectory(prefix="provenance-overhead-") as tmp:
        work = Path(tmp)
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        step = max(1, (len(lines) - 1) // args.rows)
        csv = work / "train.csv"
        csv.write_text("".join([lines[0], *lines[1::step][: args.rows]]), encoding="utf-8")

        print(f"warm-up run on {args.rows} rows (fills the teacher cache) ...", flush=True)
        warm = work / "warm"
        warm_s = _materialize(warm, _config(csv, True, args.budget, args.threads), None)
        expected = _samples(warm / "home")
        records, events = _provenance(warm / "home")
        print(
            f"warm-up: {warm_s:.1f} s, {len(expected)} accepted samples, "
            f"{records} ledger records, {events} OpenLineage events",
            flush=True,
        )

        seconds: dict[bool, list[float]] = {True: [], False: []}
        for i in range(args.repeats):
            for enabled in (True, False) if i % 2 == 0 else (False, True):
                root = work / f"run-{i}-{'on' if enabled else 'off'}"
                config = _config(csv, enabled, args.budget, args.threads)
                seconds[enabled].append(_materialize(root, config, warm / "home" / "cache"))
                if _samples(root / "home") != expected:
                    sys.exit(f"run {root.name} synthesized other samples than the warm-up")
                written = _provenance(root / "home")
                if written != ((records, events) if enabled else (0, 0)):
                    sys.exit(f"run {root.name} wrote {written} (ledger records, events)")
                shutil.rmtree(root)
            print(
                f"repeat {i + 1}: on {seconds[True][-1]:.2f} s, off {seconds[False][-1]:.2f} s",
                flush=True,
            )

        direct = _direct(warm / "home", work / "direct", args.direct)

    on, off = statistics.median(seconds[True]), statistics.median(seconds[False])
    ratio = on / off
    spread = {k: f"{min(v):.2f}-{max(v):.2f} s" for k, v in seconds.items()}
    print(
        f"lineage on:  median {on:.2f} s of {args.repeats}, range {spread[True]} "
        f"({records} ledger records, {events} events)"
    )
    print(f"lineage off: median {off:.2f} s of {args.repeats}, range {spread[False]} (nothing)")
    print(f"difference: {on - off:+.2f} s ({(ratio - 1) * 100:+.1f}%)")
    steps = events // 2
    print(
        f"direct, one step (median of {args.direct}): START + COMPLETE events "
        f"{direct['events']:.2f} ms, ledger append (fsync) {direct['ledger']:.2f} ms, "
        f"together {direct['step']:.2f} ms; x {steps} steps + {records - steps} quality record "
        f"= {(steps * direct['step'] + (records - steps) * direct['ledger']) / 1000:.3f} s a run"
    )
    print(
        f"once per process: importing the OpenLineage client {direct['import']:.0f} ms "
        "(paid by the warm-up here, by the first step of a `factory run`)"
    )
    print(f"provenance_overhead ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
