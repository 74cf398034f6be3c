"""`factory check` and `factory config-keys`: judge any dataset; list the configuration keys."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from assets.cli.common import ConfigOption, console, load

__all__ = ["check", "config_keys_command"]


def check(
    samples: Annotated[
        Path, typer.Argument(help="The set to judge: Parquet, JSONL or CSV with `text`.")
    ],
    corpus: Annotated[
        Path,
        typer.Option(
            "--corpus",
            help="The real corpus it is judged against (same formats; `train` rows if it has a "
            "`split` column).",
        ),
    ],
    eval_set: Annotated[
        list[Path] | None,
        typer.Option(
            "--eval-set",
            help="An evaluation set to check contamination against (repeatable; added to "
            "checks.eval_sets).",
        ),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the full report as JSON here.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Run the quality suite on any dataset. Exit 0: passed; 1: a blocking check failed; 2: the
    set passed but rows would be filtered (personal data, evaluation items)."""
    import json

    from checks.external import check_files, report_rows

    cfg = load(config)
    console.print(f"judging {samples} against {corpus} ...", highlight=False)
    outcome = check_files(samples, corpus, cfg, eval_set or [])
    title = f"quality checks: {outcome.samples} samples vs {outcome.corpus_rows} rows"
    rows = report_rows(outcome.report)
    if console.is_terminal:
        console.print(_rich_table(title, rows))
    else:  # piped or logged: full width, one row per line
        sys.stdout.write(_markdown_table(title, rows))
        sys.stdout.flush()
    if outcome.flagged.height:
        console.print(
            f"[red]{outcome.flagged.height} rows would be filtered[/] (privacy or contamination):"
        )
        for row in outcome.flagged.head(50).iter_rows(named=True):
            console.print(f"  row {row['row']} ({row['sample_id']}): {row['reason']}")
    failed = outcome.report.failed_blocking()
    if failed:
        console.print(f"[red]blocking checks failed:[/] {', '.join(c.name for c in failed)}")
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(outcome.as_dict(), indent=1, default=str) + "\n")
        console.print(f"report written to {json_out}")
    raise typer.Exit(outcome.exit_code)


_COLUMNS = ("family", "check", "status", "observed", "threshold", "blocking", "note")
_STYLES = {"passed": None, "failed": "red", "not applicable": "dim"}


def _rich_table(title: str, rows: list[dict[str, str]]) -> Table:
    table = Table(title=title)
    for column in _COLUMNS:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*[row[k] for k in row], style=_STYLES[row["status"]])
    return table


def _markdown_table(title: str, rows: list[dict[str, str]]) -> str:
    def cell(value: str) -> str:
        return value.replace("|", "\\|").replace("\n", " ")

    lines = [f"{title}\n", "| " + " | ".join(_COLUMNS) + " |", "|" + " --- |" * len(_COLUMNS)]
    lines += ["| " + " | ".join(cell(row[k]) for k in row) + " |" for row in rows]
    return "\n".join(lines) + "\n\n"


def config_keys_command(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the Markdown reference.")
    ] = False,
) -> None:
    """List every configuration key with its description."""
    if markdown:
        from factory.config_reference import render_reference

        sys.stdout.write(render_reference())
        return
    from factory.config import config_keys

    for key, description in config_keys().items():
        console.print(f"[bold]{key}[/]: {description}", highlight=False)
