"""`factory run`, `factory ui`, `factory status`: the pipeline on the project's Dagster instance."""

import os
import subprocess
import sys
from typing import Annotated

import typer
from rich.table import Table

from assets.cli.common import (
    ConfigOption,
    config_path,
    console,
    load,
    prepare_instance,
    quiet_libraries,
)

__all__ = ["run", "status", "ui"]


def run(
    config: ConfigOption = None,
    select: Annotated[
        list[str] | None,
        typer.Option("--select", "-s", help="Asset keys to materialize (default: all)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Materialize up to synthesis_plan (no teacher call) and print the calls and "
            "tokens synthesis would spend, and how many are already cached.",
        ),
    ] = False,
    round_number: Annotated[
        int,
        typer.Option(
            "--round",
            "-r",
            min=1,
            help="Failure-loop round: 1 maps the corpus and fills its gaps; N > 1 targets the "
            "validation failures of round N-1's student (run round N-1 first).",
        ),
    ] = 1,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Also show Dagster's event log, library warnings and model-loading bars.",
        ),
    ] = False,
) -> None:
    """Materialize the asset graph through the project's persistent Dagster instance."""
    if not verbose:
        quiet_libraries()
    from assets import console as layers
    from assets.pipeline import run_pipeline

    cfg = load(config)
    prepare_instance(cfg, config)

    def ingested(shards: list[str]) -> None:
        console.print(f"shards ingested: {', '.join(shards) or 'none changed'}")

    reporter = layers.ConsoleReporter(console)
    layers.install(reporter)
    try:
        outcome = run_pipeline(
            cfg,
            config_path(config),
            select,
            dry_run,
            round_number,
            on_ingest=ingested,
            log_level="INFO" if verbose else "WARNING",
        )
    finally:
        layers.uninstall()
    if reporter.timings:
        console.print(reporter.timing_table())
    if dry_run:
        if outcome.estimate is None:
            console.print("dry run: synthesis_plan was not materialized")
            return
        console.print("[bold]dry run[/]: nothing was sent to the teacher")
        console.print(outcome.estimate.replace("  \n", "\n"))
        return
    console.print(
        f"[green]materialized[/] {', '.join(outcome.materialized)} (run {outcome.run_id})"
    )
    failed = [check for check in outcome.checks if not check.passed]
    inapplicable = sum(1 for check in outcome.checks if not check.applicable)
    passed = len(outcome.checks) - len(failed) - inapplicable
    console.print(
        f"checks: {passed} of {len(outcome.checks)} passed"
        + (f" ({inapplicable} not applicable)" if inapplicable else "")
        + "".join(f"; [yellow]{c.check} failed[/] on {c.asset}" for c in failed)
    )
    console.print(f"outputs in {cfg.home_dir} (round {round_number})")
    if outcome.report_path is not None:
        console.print(f"report: {outcome.report_path}")


def ui(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Open the Dagster UI (dagster dev on 127.0.0.1) on the project's instance."""
    cfg = load(config)
    prepare_instance(cfg, config)
    console.print(f"Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it)")
    command = [
        sys.executable, "-m", "dagster", "dev",
        "-m", "assets.definitions", "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    env = os.environ | {"DAGSTER_DISABLE_TELEMETRY": "1"}
    try:
        code = subprocess.call(command, env=env)
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


def status(config: ConfigOption = None) -> None:
    """Show each asset's latest materialization: when, data version, row count."""
    from assets.status import asset_status

    cfg = load(config)
    prepare_instance(cfg, config)
    table = Table(title=f"factory status ({cfg.home_dir})")
    for column in ("asset", "partition", "materialized", "data version", "rows", "run"):
        table.add_column(column)
    for row in asset_status():
        table.add_row(*row)
    console.print(table)
