"""`factory experiment utility`: what the factory's parts are worth, measured."""

from pathlib import Path
from typing import Annotated

import typer

from assets.cli.common import console
from factory.errors import FactoryError

__all__ = ["experiment_app"]

experiment_app = typer.Typer(
    help="Experiments that measure what the factory's parts are worth.", no_args_is_help=True
)


@experiment_app.command("utility")
def experiment_utility(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Experiment config, e.g. examples/utility.yaml.")
    ],
    quick: Annotated[
        bool,
        typer.Option("--quick", help="The light classifier student and a small N (a smoke run)."),
    ] = False,
    standard: Annotated[
        bool,
        typer.Option(
            "--standard",
            help="The light classifier student and an N large enough to matter (about an hour "
            "on 2 cores); without --quick or --standard, the full run (for a GPU).",
        ),
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the per-condition results as JSON here.")
    ] = None,
    work: Annotated[
        Path | None,
        typer.Option(
            "--work",
            help="Work folder (teacher cache, outcomes, students); default "
            "<home>/experiments/utility. A rerun there makes no teacher calls.",
        ),
    ] = None,
) -> None:
    """Does gap targeting pay? Train one student on train only, + untargeted, + gap-targeted,
    + an adversarial round of synthetic rows and on the full data; print accuracy, the gap
    closure on the cut intents and the oracle's label precision, with 95% intervals over seeds."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from factory.experiments import load_experiment_config, run_utility, write_report

    if quick and standard:
        raise FactoryError("--quick and --standard are two modes; pass one of them")
    cfg = load_experiment_config(config)
    mode = "quick" if quick else "standard" if standard else "full"
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress("{task.description}", *columns, console=console, transient=True) as bars:
        tasks: dict[str, object] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bars.add_task(step, total=total)
            bars.update(tasks[step], completed=done, total=total)  # type: ignore[arg-type]

        result = run_utility(cfg, mode, work, progress)
    report = write_report(result, json_out)
    console.print(report.table, highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"plot: {report.plot_path}; results: {report.json_path}; {result.seconds:.0f} s",
        highlight=False,
    )
