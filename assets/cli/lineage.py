"""`factory lineage verify|repair|trace|impact`: the ledger's hash chain and row-level lineage."""

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from assets.cli.common import ConfigOption, console, errors, load
from factory.errors import FactoryError
from factory.home import Home

__all__ = ["lineage_app"]

lineage_app = typer.Typer(
    help="Row-level lineage: verify or repair the ledger, trace a synthetic row, find what a "
    "document fed.",
    no_args_is_help=True,
)

JsonOption = Annotated[
    Path | None, typer.Option("--json", help="Write the answer as JSON here ('-': stdout).")
]


def _write_answer(answer: dict[str, object], json_out: Path | None) -> bool:
    """Write `answer` as JSON to `json_out` ('-' for stdout); True when it went to stdout."""
    import json

    if json_out is None:
        return False
    text = json.dumps(answer, indent=1, default=str, ensure_ascii=False) + "\n"
    if str(json_out) == "-":
        sys.stdout.write(text)
        return True
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(text, encoding="utf-8")
    console.print(f"written to {json_out}", highlight=False)
    return False


@lineage_app.command("verify")
def lineage_verify(config: ConfigOption = None) -> None:
    """Recompute the ledger's hash chain; name every edited, removed or reordered record, and
    records cut from its end that a release's recorded ledger head still names."""
    from lineage import Ledger, LineageError
    from lineage.release.anchor import check_release_anchors

    home = Home.of(load(config))
    path = home.ledger
    result = Ledger(path).verify() if path.is_file() else None
    try:
        anchors = check_release_anchors(home)
    except LineageError as exc:  # an unreadable line: the chain's problems already name it
        anchors = [] if result is not None and result.problems else [str(exc)]
    if result is None and not anchors:
        raise FactoryError(f"no ledger at {path}; run `factory run` first")
    if result is not None and result.ok and not anchors:
        console.print(f"[green]ledger intact[/]: {result.records} records in {path}")
        return
    for problem in [*(result.problems if result is not None else []), *anchors]:
        errors.print(f"[red]tampered[/]: {problem}", highlight=False, soft_wrap=True)
    if result is not None and result.incomplete is not None:
        errors.print(f"[yellow]{result.incomplete}[/]", highlight=False, soft_wrap=True)
    raise typer.Exit(1)


@lineage_app.command("repair")
def lineage_repair(config: ConfigOption = None) -> None:
    """Cut an incomplete last line of the ledger (a crash while appending), keep its bytes
    beside it and record the repair; refuses a ledger with any other problem."""
    from lineage import Ledger

    path = Home.of(load(config)).ledger
    if not path.is_file():
        raise FactoryError(f"no ledger at {path}; nothing to repair")
    record = Ledger(path).repair()
    if record is None:
        console.print(f"nothing to repair: the last line of {path} is complete", highlight=False)
        return
    body = record["body"]
    console.print(
        f"[green]repaired[/] {path}: cut {body['removed_bytes']} bytes after seq "
        f"{body['after_seq']} (kept in {body['saved_to']}), recorded as seq {record['seq']} "
        f"(kind {record['kind']})",
        highlight=False,
    )


@lineage_app.command("trace")
def lineage_trace(
    sample_id: Annotated[str, typer.Argument(help="A synthetic row's sample_id (or its prefix).")],
    config: ConfigOption = None,
    json_out: JsonOption = None,
) -> None:
    """Where one synthetic row came from: parents, source, license, gap, teacher, checks."""
    from lineage import Ledger
    from lineage.trace import read_lineage_tables, trace_sample

    home = Home.of(load(config))
    answer = trace_sample(read_lineage_tables(home), Ledger(home.ledger).records(), sample_id)
    if _write_answer(answer, json_out):
        return
    gap, gate = answer["gap"], answer["quality_gate"]
    console.print(f"[bold]{answer['sample_id']}[/] (round {answer['round']}): {answer['text']!r}")
    console.print(
        f"method {answer['method']} for gap {gap['gap_id'][:12]} ({gap['kind']}, rank "
        f"{gap['rank']}): {gap['rationale']}",
        highlight=False,
    )
    table = Table(title="parents")
    for column in ("doc_id", "split", "source", "source_uri", "license"):
        table.add_column(column)
    for parent in answer["parents"]:
        table.add_row(
            parent["doc_id"][:12], parent.get("split", "?"), parent.get("source_id", "?"),
            parent.get("source_uri", "?"), parent.get("license", "?"),
        )  # fmt: skip
    console.print(table)
    console.print(
        f"teacher {answer['teacher_fingerprint'][:24]}, prompt "
        f"{answer['prompt_template_hash'][:12]}, seed {answer['seed']}, run {answer['run_id']}",
        highlight=False,
    )
    if gate is None:
        console.print("quality gate: no record for this run and round")
    else:
        verdict = "passed" if gate["passed"] else "FAILED"
        console.print(
            f"quality gate {verdict}: {len(gate['checks_passed'])} checks passed, failed: "
            f"{', '.join(gate['checks_failed']) or 'none'}",
            highlight=False,
        )


@lineage_app.command("impact")
def lineage_impact(
    doc_or_source: Annotated[str, typer.Argument(help="A doc_id or a source id of the corpus.")],
    config: ConfigOption = None,
    json_out: JsonOption = None,
) -> None:
    """Every synthetic row, student checkpoint and release derived from a document or source."""
    from lineage.trace import impact, read_lineage_tables

    cfg = load(config)
    answer = impact(read_lineage_tables(Home.of(cfg)), doc_or_source)
    if _write_answer(answer, json_out):
        return
    console.print(
        f"{answer['kind']} {doc_or_source}: {len(answer['documents'])} documents, "
        f"{len(answer['synthetic_samples'])} synthetic rows, "
        f"{len(answer['checkpoints'])} checkpoints, {len(answer['releases'])} releases",
        highlight=False,
    )
    for sample in answer["synthetic_samples"]:
        console.print(f"  sample {sample}", highlight=False)
    for checkpoint in answer["checkpoints"]:
        console.print(
            f"  checkpoint round {checkpoint['round']}: {checkpoint['checkpoint_path']}",
            highlight=False,
        )
    for release in answer["releases"]:
        console.print(f"  release {release}", highlight=False)
