"""The `factory` command line: run the graph, open the UI, show what is materialized, check.

Every command reads the same `factory.yaml` as the Dagster code location. Errors print one line
and exit with status 1; nothing prints a traceback.
"""

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import click
import typer
from rich.console import Console
from rich.table import Table

from assets.cli_workers import workers
from factory.config import FactoryConfig, config_keys, load_config
from factory.errors import FactoryError
from factory.storage import table_path

__all__ = ["app", "main"]

app = typer.Typer(
    name="factory",
    help="Map a corpus's embedding space, find its gaps, synthesize governed training data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Path to factory.yaml (default: ./factory.yaml or built-in defaults).",
    ),
]


def _load(config: Path | None) -> FactoryConfig:
    if config is None and Path("factory.yaml").is_file():
        config = Path("factory.yaml")
    return load_config(config)


def _prepare_instance(cfg: FactoryConfig, config: Path | None) -> Path:
    from assets.instance import dagster_home
    from assets.resources import CONFIG_ENV

    home = dagster_home(cfg)
    os.environ["DAGSTER_HOME"] = str(home)
    if config is not None:
        os.environ[CONFIG_ENV] = str(Path(config).resolve())
    return home


@app.command()
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
) -> None:
    """Materialize the asset graph through the project's persistent Dagster instance."""
    import dagster as dg

    from assets.definitions import ALL_ASSETS, ALL_CHECKS, build_resources
    from assets.pipeline import failure_message, ingest_shards
    from assets.rounds import add_round

    cfg = _load(config)
    _prepare_instance(cfg, config)
    config_path = str(Path(config).resolve()) if config else None
    selection: object = select or None
    if dry_run:
        if select:
            raise FactoryError("--dry-run plans the whole synthesis; drop --select")
        plan = dg.AssetSelection.assets("synthesis_plan")
        selection = plan.upstream().required_multi_asset_neighbors()
        if round_number > 1:
            selection = selection - _round_assets(partitioned=False)  # type: ignore[operator]
    elif round_number > 1 and not select:
        selection = _round_assets()
    resources = build_resources(config_path)
    with dg.DagsterInstance.get() as instance:
        if round_number == 1 and not select:
            shards = ingest_shards(instance, cfg, resources, tags={"factory/source": "cli"})
            console.print(f"shards ingested: {', '.join(shards) or 'none changed'}")
        key = add_round(instance, round_number) if _selects_rounds(selection) else None
        result = dg.materialize(
            [*ALL_ASSETS, *([] if dry_run else ALL_CHECKS)],
            instance=instance,
            resources=resources,
            selection=selection,  # type: ignore[arg-type]
            partition_key=key,
            raise_on_error=False,
            tags={"factory/source": "cli", **({"factory/round": key} if key else {})},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
    if not result.success:
        raise FactoryError(failure_message(result))
    if dry_run:
        _print_estimate(result)
        return
    done = [
        event.asset_key.to_user_string()
        for event in result.get_asset_materialization_events()
        if event.asset_key is not None
    ]
    console.print(f"[green]materialized[/] {', '.join(done)} (run {result.run_id})")
    for evaluation in result.get_asset_check_evaluations():
        verdict = "[green]passed[/]" if evaluation.passed else "[yellow]failed[/]"
        console.print(
            f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()}: {verdict}"
        )
    console.print(f"outputs in {cfg.home_dir} (round {round_number})")
    release = table_path(cfg.home_dir, "dataset_release", str(round_number))
    if "dataset_release" in done and release.exists():
        import polars as pl

        console.print(f"report: {pl.read_parquet(release)['report_path'][0]}")


def _selects_rounds(selection: object) -> bool:
    """Whether `selection` (None: everything) holds an asset partitioned by round."""
    import dagster as dg

    from assets.definitions import defs
    from assets.rounds import ROUNDS

    if selection is None:
        return True
    graph = defs.resolve_asset_graph()
    chosen = (
        selection
        if isinstance(selection, dg.AssetSelection)
        else dg.AssetSelection.from_coercible(selection)  # type: ignore[arg-type]
    )
    return any(graph.get(key).partitions_def == ROUNDS for key in chosen.resolve(graph))


def _round_assets(partitioned: bool = True) -> object:
    """The assets partitioned by round (what a later round re-runs), or the corpus, embedding
    and map assets that every round shares (`partitioned=False`)."""
    import dagster as dg

    from assets.definitions import ALL_ASSETS
    from assets.rounds import ROUNDS

    keys = [
        key
        for asset in ALL_ASSETS
        for key in asset.keys
        if (asset.partitions_def == ROUNDS) == partitioned
    ]
    return dg.AssetSelection.assets(*keys)


def _print_estimate(result: object) -> None:
    """The synthesis estimate recorded on the plan's materialization."""
    for event in result.get_asset_materialization_events():  # type: ignore[attr-defined]
        if event.asset_key is not None and event.asset_key.to_user_string() == "synthesis_plan":
            text = event.materialization.metadata["estimate_text"].value
            console.print("[bold]dry run[/]: nothing was sent to the teacher")
            console.print(text.replace("  \n", "\n"))
            return
    console.print("dry run: synthesis_plan was not materialized")


@app.command()
def ui(
    config: ConfigOption = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 3000,
) -> None:
    """Open the Dagster UI (dagster dev on 127.0.0.1) on the project's instance."""
    cfg = _load(config)
    _prepare_instance(cfg, config)
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


@app.command()
def status(config: ConfigOption = None) -> None:
    """Show each asset's latest materialization: when, data version, row count."""
    import dagster as dg

    from assets.definitions import defs

    cfg = _load(config)
    _prepare_instance(cfg, config)
    table = Table(title=f"factory status ({cfg.home_dir})")
    for column in ("asset", "partition", "materialized", "data version", "rows", "run"):
        table.add_column(column)
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
            event = instance.get_latest_materialization_event(key)
            if event is None or event.asset_materialization is None:
                table.add_row(key.to_user_string(), "", "never", "", "", "")
                continue
            mat = event.asset_materialization
            rows = mat.metadata.get("dagster/row_count")
            version = mat.tags.get("dagster/data_version", "") if mat.tags else ""
            when = _format_time(event.timestamp)
            row_text = str(rows.value) if rows is not None else ""
            table.add_row(
                key.to_user_string(),
                mat.partition or "",
                when,
                version[:12],
                row_text,
                event.run_id[:8],
            )
    console.print(table)


def _format_time(timestamp: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@app.command()
def probes(
    out: Annotated[Path, typer.Option("--out", help="JSONL file to write the probes to.")],
    config: ConfigOption = None,
    per_cluster: Annotated[int, typer.Option(help="Probes asked for per cluster.", min=1)] = 5,
) -> None:
    """Ask the teacher to enumerate the domain; write the probes as a reference source (JSONL).

    Needs a materialized map (`factory run` first). Point `gaps.reference_source` at the file
    (kind jsonl) with `gaps.reference: source` to find coverage gaps against it.
    """
    import polars as pl

    from factory.gaps.probes import save_probes, write_probes
    from factory.teacher import start_teacher

    cfg = _load(config)
    tables = cfg.home_dir / "tables"
    needed = {name: tables / f"{name}.parquet" for name in ("clusters", "semantic_map")}
    missing = [name for name, path in needed.items() if not path.is_file()]
    if missing:
        msg = f"no materialized {missing} under {tables}; run `factory run` first"
        raise FactoryError(msg)
    clusters = pl.read_parquet(needed["clusters"])
    mapped = pl.read_parquet(needed["semantic_map"], columns=["doc_id", "split", "cluster_id"])
    docs = pl.read_parquet(tables / "corpus_documents.parquet", columns=["doc_id", "text"])
    train = mapped.filter(pl.col("split") == "train").join(docs, on="doc_id")
    console.print(
        f"asking the teacher for {per_cluster} probes on each of {clusters.height} clusters"
    )
    with start_teacher(cfg.teacher, cfg.home_dir / "logs") as teacher:
        texts = write_probes(teacher, clusters, train, cfg.teacher, per_cluster=per_cluster)
        path = save_probes(texts, out, teacher.fingerprint)
    console.print(f"{len(texts)} probes from {clusters.height} clusters written to {path}")


@app.command("fault-proxy")
def fault_proxy(
    upstream: Annotated[str, typer.Argument(help="Base URL of the real server, e.g. …/v1.")],
    rate: Annotated[
        float, typer.Option(help="Share of POSTs that get a fault (split over 4 kinds).")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Seed of the fault sequence.")] = 0,
    hang_s: Annotated[float, typer.Option(help="Seconds a hung request stays open.")] = 30.0,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).")] = 0,
) -> None:
    """Serve a fault-injecting proxy (429 + Retry-After, 500, hangs, cut-off bodies) in front
    of an OpenAI-compatible server, to rehearse a teacher setup; prints its URL, Ctrl-C stops."""
    from factory.teacher.fault_proxy import serve_fault_proxy

    serve_fault_proxy(upstream, rate, seed, hang_s, port)


@app.command()
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
    """Run the quality suite on any dataset; exit 1 on a blocking failure or a filterable row."""
    import json

    from checks.external import check_files, report_rows

    cfg = _load(config)
    console.print(f"judging {samples} against {corpus} ...", highlight=False)
    outcome = check_files(samples, corpus, cfg, eval_set or [])
    table = Table(title=f"quality checks: {outcome.samples} samples vs {outcome.corpus_rows} rows")
    for column in ("family", "check", "status", "observed", "threshold", "blocking", "note"):
        table.add_column(column, overflow="fold")
    styles = {"passed": "green", "failed": "red", "not applicable": "dim"}
    for row in report_rows(outcome.report):
        style = styles[row["status"]]
        table.add_row(*[row[k] for k in row], style=style if row["status"] != "passed" else None)
    console.print(table)
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


@app.command("config-keys")
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
    for key, description in config_keys().items():
        console.print(f"[bold]{key}[/]: {description}", highlight=False)


@app.command()
def verify(
    release_dir: Annotated[
        Path, typer.Argument(help="A release folder (HOME/releases/<version>).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The publisher's public key (PEM); default: the copy the release carries.",
        ),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="Project ledger (default: HOME/provenance/ledger.jsonl beside it)."
        ),
    ] = None,
    allow_unsigned: Annotated[
        bool,
        typer.Option("--allow-unsigned", help="Accept a release without signature.sig."),
    ] = False,
) -> None:
    """Check a release folder: every file against MANIFEST.sha256, the signature over the
    folder, and its record and layers in the project ledger; exit 1 on any tampering."""
    from lineage.verify import verify_release

    result = verify_release(release_dir, public_key, ledger, require_signature=not allow_unsigned)
    for note in result.notes:
        console.print(f"[yellow]note[/]: {note}", highlight=False, soft_wrap=True)
    if not result.ok:
        for problem in result.problems:
            errors.print(f"[red]tampered[/]: {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    checked = [f"{result.files} file{'s' * (result.files != 1)} match MANIFEST.sha256"]
    if result.signed_by is not None:
        checked.append(f"signature verifies (key SHA-256 {result.signed_by[:16]}…)")
    if result.ledger is not None:
        checked.append(f"recorded in {result.ledger}")
    console.print(f"[green]release intact[/]: {'; '.join(checked)}", highlight=False)


keys_app = typer.Typer(help="The local key that signs release folders.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(
    config: ConfigOption = None,
    path: Annotated[
        Path | None,
        typer.Option(
            "--path",
            help="Private key to create (default: release.signing_key, else "
            "HOME/keys/release-signing.pem).",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing key (old releases then fail).")
    ] = False,
) -> None:
    """Create the EC P-256 key pair that signs releases; the private key (0600) never enters
    a release, the public half (.pub) is what you hand to verifiers."""
    from assets.release import signing_key_path
    from lineage.signing import init_keys

    target = path if path is not None else signing_key_path(_load(config))
    pair = init_keys(target, overwrite=force)
    console.print(f"[green]created[/] {pair.private_key} (private, mode 0600)", highlight=False)
    console.print(f"public key {pair.public_key}, SHA-256 {pair.fingerprint}", highlight=False)


@app.command("release")
def release(
    config: ConfigOption = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            "-x",
            help="A doc_id or source_id to leave out with every row derived from it (repeatable).",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, for the report and the ledger.")
    ] = None,
    round_number: Annotated[
        int | None,
        typer.Option("--round", "-r", min=1, help="Round to release (default: the latest)."),
    ] = None,
) -> None:
    """Write, sign and record a release from the stored tables (no other asset re-runs);
    with --exclude, rebuild it without a document or source (a takedown)."""
    import dagster as dg

    from assets.definitions import ALL_ASSETS, ALL_CHECKS, build_resources
    from assets.pipeline import failure_message
    from assets.rounds import add_round

    cfg = _load(config)
    _prepare_instance(cfg, config)
    if round_number is None:
        round_number = _latest_round(cfg)
    if not table_path(cfg.home_dir, "student_evaluation", str(round_number)).exists():
        raise FactoryError(
            f"round {round_number} has no student evaluation under {cfg.home_dir}; run "
            f"`factory run --round {round_number}` first"
        )
    request = {"exclude": list(exclude or []), "reason": reason}
    config_path = str(Path(config).resolve()) if config else None
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize(
            [*ALL_ASSETS, *ALL_CHECKS],
            instance=instance,
            resources=build_resources(config_path),
            selection=["dataset_release"],
            partition_key=add_round(instance, round_number),
            raise_on_error=False,
            tags={"factory/source": "cli", "factory/round": str(round_number)},
            run_config={
                "ops": {"dataset_release": {"config": request}},
                "loggers": {"console": {"config": {"log_level": "INFO"}}},
            },
        )
    if not result.success:
        raise FactoryError(failure_message(result))
    import polars as pl

    row = pl.read_parquet(table_path(cfg.home_dir, "dataset_release", str(round_number))).row(
        0, named=True
    )
    console.print(
        f"[green]released[/] {row['synthetic_rows']} synthetic and {row['train_rows']} train rows "
        f"to {row['release_path']} (run {result.run_id})",
        highlight=False,
    )
    console.print(f"report: {row['report_path']}", highlight=False)


def _latest_round(cfg: FactoryConfig) -> int:
    """The highest round with a stored student evaluation."""
    folder = table_path(cfg.home_dir, "student_evaluation", "1").parent
    rounds = [int(p.stem) for p in folder.glob("*.parquet") if p.stem.isdigit()]
    if not rounds:
        raise FactoryError(f"nothing to release under {cfg.home_dir}; run `factory run` first")
    return max(rounds)


@app.command("publish")
def publish(
    release_dir: Annotated[
        Path, typer.Argument(help="A release folder (HOME/releases/<version>).")
    ],
    repo_id: Annotated[
        str, typer.Option("--repo-id", help="The Hub dataset repo to publish to, ORG/NAME.")
    ],
    private: Annotated[
        bool,
        typer.Option("--private", help="Make the repo private (an existing one must already be)."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Run every check and list what would be uploaded; no network."
        ),
    ] = False,
    use: Annotated[
        str | None,
        typer.Option(
            "--use",
            help="commercial, non-commercial or academic (default: the release's declared use).",
        ),
    ] = None,
    endpoint: Annotated[
        str | None,
        typer.Option("--endpoint", help="Hub URL (default: $HF_ENDPOINT, else huggingface.co)."),
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger", help="Ledger to record it in (default: HOME/provenance/ledger.jsonl)."
        ),
    ] = None,
) -> None:
    """Publish a release to a Hugging Face dataset repo: check it, upload the folder, tag it
    v-<version> and record the commit in the ledger. The token comes from HF_TOKEN only."""
    from lineage.licenses import USES
    from lineage.publish import PublishRefusedError, publish_release

    if use is not None and use not in USES:
        raise FactoryError(f"--use {use!r} is not one of {', '.join(USES)}; pick one of them")
    try:
        result = publish_release(
            release_dir,
            repo_id,
            private=private,
            dry_run=dry_run,
            use=use,
            endpoint=endpoint,
            ledger=ledger,
        )
    except PublishRefusedError as exc:
        errors.print(f"[red]refused[/]: nothing was uploaded to {repo_id}", highlight=False)
        for reason in exc.reasons:
            errors.print(f"  - {reason}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    visibility = "private" if result.private else "public"
    summary = (
        f"{len(result.files)} files, {result.total_bytes:,} bytes to {visibility} "
        f"{result.url} as tag {result.tag} ({result.use} use)"
    )
    if result.dry_run:
        console.print(f"[yellow]dry run[/], nothing uploaded: would publish {summary}")
        for f in result.files:
            console.print(f"  {f.path}  {f.size:,} bytes  sha256 {f.sha256[:16]}", highlight=False)
        return
    console.print(f"[green]published[/] {summary}", highlight=False)
    console.print(f"commit {result.commit_sha}, recorded in {result.ledger}", highlight=False)


@app.command("hub-server")
def hub_server(
    root: Annotated[Path, typer.Argument(help="Folder that holds the repos (created if absent).")],
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free one).")] = 0,
    require_token: Annotated[
        bool,
        typer.Option("--require-token", help="Accept only the token in $HF_TOKEN (else any)."),
    ] = False,
) -> None:
    """Serve a local Hugging Face Hub-compatible server over a folder, to rehearse a publish
    (set HF_ENDPOINT to the URL it prints); Ctrl-C stops."""
    from factory.hub_server import serve_hub_forever

    token = os.environ.get("HF_TOKEN", "").strip() or None
    if require_token and token is None:
        raise FactoryError("--require-token needs HF_TOKEN set to the token clients must send")
    serve_hub_forever(root, port, token if require_token else None)


app.command("workers")(workers)


lineage_app = typer.Typer(
    help="Row-level lineage: verify the ledger, trace a synthetic row, find what a document fed.",
    no_args_is_help=True,
)
app.add_typer(lineage_app, name="lineage")

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
    """Recompute the ledger's hash chain; name every edited, removed or reordered record."""
    from assets.lineage_step import ledger_path
    from lineage import Ledger

    cfg = _load(config)
    path = ledger_path(cfg.home_dir)
    if not path.is_file():
        raise FactoryError(f"no ledger at {path}; run `factory run` first")
    result = Ledger(path).verify()
    if result.ok:
        console.print(f"[green]ledger intact[/]: {result.records} records in {path}")
        return
    for problem in result.problems:
        errors.print(f"[red]tampered[/]: {problem}", highlight=False)
    raise typer.Exit(1)


@lineage_app.command("trace")
def lineage_trace(
    sample_id: Annotated[str, typer.Argument(help="A synthetic row's sample_id (or its prefix).")],
    config: ConfigOption = None,
    json_out: JsonOption = None,
) -> None:
    """Where one synthetic row came from: parents, source, license, gap, teacher, checks."""
    from assets.lineage_step import ledger_path
    from lineage import Ledger
    from lineage.trace import read_lineage_tables, trace_sample

    cfg = _load(config)
    answer = trace_sample(
        read_lineage_tables(cfg.home_dir), Ledger(ledger_path(cfg.home_dir)).records(), sample_id
    )
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

    cfg = _load(config)
    answer = impact(read_lineage_tables(cfg.home_dir), doc_or_source)
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


experiment_app = typer.Typer(
    help="Experiments that measure what the factory's parts are worth.", no_args_is_help=True
)
app.add_typer(experiment_app, name="experiment")


@experiment_app.command("utility")
def experiment_utility(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Experiment config, e.g. examples/utility.yaml.")
    ],
    quick: Annotated[
        bool,
        typer.Option("--quick", help="The light classifier student and the quick N (2 cores)."),
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
    """Does gap targeting pay? Train one student on train only, + untargeted, + gap-targeted and
    + an adversarial round of synthetic rows; print accuracy with 95% intervals over seeds."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from factory.experiments import load_experiment_config, run_utility, write_report

    cfg = load_experiment_config(config)
    mode = "quick" if quick else "full"
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


def main() -> None:
    """Entry point: run the app, turning factory errors into one line and exit status 1."""
    try:
        code = app(standalone_mode=False)  # click returns a `typer.Exit` code here
    except FactoryError as exc:
        raise SystemExit(_print_error(str(exc))) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    except click.UsageError as exc:
        raise SystemExit(_print_error(exc.format_message(), code=2)) from None
    except Exception as exc:  # anything unexpected: still one line, never a traceback
        raise SystemExit(_print_error(f"{type(exc).__name__}: {exc}")) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)


def _print_error(message: str, code: int = 1) -> int:
    errors.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return code


if __name__ == "__main__":
    main()
