"""`factory release`, `publish`, `verify` and `keys init`: signed release folders."""

from pathlib import Path
from typing import Annotated

import typer

from assets.cli.common import (
    ConfigOption,
    config_path,
    console,
    errors,
    load,
    prepare_instance,
)
from factory.errors import FactoryError

__all__ = ["keys_app", "keys_init", "publish", "release", "verify"]

keys_app = typer.Typer(help="The local key that signs release folders.", no_args_is_help=True)


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
    from lineage.release.verify import verify_release

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
    from factory.home import Home
    from lineage.release.signing import init_keys

    target = path if path is not None else Home.of(load(config)).signing_key
    pair = init_keys(target, overwrite=force)
    console.print(f"[green]created[/] {pair.private_key} (private, mode 0600)", highlight=False)
    console.print(f"public key {pair.public_key}, SHA-256 {pair.fingerprint}", highlight=False)


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
    from assets.pipeline import release_tables

    cfg = load(config)
    prepare_instance(cfg, config)
    outcome = release_tables(cfg, config_path(config), round_number, exclude, reason)
    row = outcome.row
    console.print(
        f"[green]released[/] {row['synthetic_rows']} synthetic and {row['train_rows']} train rows "
        f"to {row['release_path']} (run {outcome.run_id})",
        highlight=False,
    )
    console.print(f"report: {row['report_path']}", highlight=False)


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
    from lineage.release.licenses import USES
    from lineage.release.publish import PublishRefusedError, publish_release

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
