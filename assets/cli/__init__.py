"""The `factory` command line: run the graph, open the UI, show what is materialized, check.

One module per command group, each command parsing its options, calling one function of the
library or the pipeline and printing:

    run.py          run, ui, status
    teacher.py      probes, fault-proxy
    check.py        check, config-keys
    release.py      verify, release, publish, keys init, keys trust
    workers.py      workers (also `python -m assets.cli.workers`, what celery workers run)
    lineage.py      lineage verify, repair, trace, impact
    experiments.py  experiment utility

Every command reads the same `factory.yaml` as the Dagster code location. Errors print one line
and exit with status 1 (`factory verify` exits 3 for an intact release that no trusted key
signed); nothing prints a traceback.
"""

import functools

import click
import typer

from factory.errors import FactoryError

__all__ = ["app", "build_app", "main"]


@functools.cache
def build_app() -> typer.Typer:
    """The root `factory` app, its commands gathered from the command-group modules."""
    from assets.cli import check, experiments, lineage, release, run, teacher, workers

    app = typer.Typer(
        name="factory",
        help="Map a corpus's embedding space, find its gaps, synthesize governed training data.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.command()(run.run)
    app.command()(run.ui)
    app.command()(run.status)
    app.command()(teacher.probes)
    app.command("fault-proxy")(teacher.fault_proxy)
    app.command()(check.check)
    app.command("config-keys")(check.config_keys_command)
    app.command()(release.verify)
    app.command("release")(release.release)
    app.command("publish")(release.publish)
    app.command("workers")(workers.workers)
    app.add_typer(release.keys_app, name="keys")
    app.add_typer(lineage.lineage_app, name="lineage")
    app.add_typer(experiments.experiment_app, name="experiment")
    return app


def __getattr__(name: str) -> typer.Typer:
    """`app`, built on first use: `python -m assets.cli.workers` then imports no other group."""
    if name == "app":
        return build_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point: run the app, turning factory errors into one line and exit status 1."""
    from assets.cli.common import print_error

    try:
        code = build_app()(standalone_mode=False)  # click returns a `typer.Exit` code here
    except FactoryError as exc:
        raise SystemExit(print_error(str(exc))) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except click.UsageError as exc:
        raise SystemExit(print_error(exc.format_message(), code=2)) from None
    except Exception as exc:  # anything unexpected: still one line, never a traceback
        raise SystemExit(print_error(f"{type(exc).__name__}: {exc}")) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)
