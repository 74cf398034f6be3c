"""`factory release`, `publish`, `verify`, `keys init` and `keys trust`: signed release folders."""

import os
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

__all__ = [
    "NOT_AUTHENTICATED_EXIT",
    "keys_app",
    "keys_init",
    "keys_trust",
    "publish",
    "release",
    "verify",
]

keys_app = typer.Typer(help="The local key that signs release folders.", no_args_is_help=True)


NOT_AUTHENTICATED_EXIT = 3
"""`factory verify`'s exit status when the folder is intact but no trusted key signed it."""


def verify(
    release_dir: Annotated[
        Path, typer.Argument(help="A release folder (HOME/releases/<version>).")
    ],
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key",
            help="The publisher's public key (PEM), obtained separately from the release.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ] = None,
    trusted_keys: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="Your trusted-keys file: one fingerprint or PEM path a line (default: "
            "$FACTORY_TRUSTED_KEYS, else ~/.config/factory/trusted-keys).",
        ),
    ] = None,
    trust_embedded_key: Annotated[
        bool,
        typer.Option(
            "--trust-embedded-key",
            help="Accept the key the release carries: integrity only, publisher not checked.",
        ),
    ] = False,
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
    """Check a release folder: every file against MANIFEST.sha256, the signature against a key
    you trust, and its record, layers and ledger head in the project ledger. Exit 1 on any
    tampering, 3 when intact but signed by no trusted key (integrity only)."""
    from lineage.release.trust import (
        TRUSTED_KEYS_ENV,
        default_trusted_keys_path,
        read_trusted_keys,
    )
    from lineage.release.verify import verify_release

    keys_file = trusted_keys if trusted_keys is not None else default_trusted_keys_path()
    explicit = trusted_keys is not None or bool(os.environ.get(TRUSTED_KEYS_ENV))
    trusted = read_trusted_keys(keys_file, required=explicit)
    result = verify_release(
        release_dir,
        public_key,
        ledger,
        trusted_keys=trusted,
        trust_embedded_key=trust_embedded_key,
        signature="optional" if allow_unsigned else "required",
    )
    for note in result.notes:
        console.print(f"[yellow]note[/]: {note}", highlight=False, soft_wrap=True)
    if result.problems:
        for problem in result.problems:
            errors.print(f"[red]tampered[/]: {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if result.unauthenticated is not None:
        errors.print(f"[red]{result.unauthenticated}[/]", highlight=False, soft_wrap=True)
        raise typer.Exit(NOT_AUTHENTICATED_EXIT)
    checked = [f"{result.files} file{'s' * (result.files != 1)} match MANIFEST.sha256"]
    if result.signed_by is not None:
        by = f"trusted: {result.trusted_by}" if result.trusted_by else "carried key, not trusted"
        checked.append(f"signature verifies (key SHA-256 {result.signed_by}, {by})")
    if result.ledger is not None:
        checked.append(f"recorded in {result.ledger}")
    console.print(
        f"[green]release intact[/]: {'; '.join(checked)}", highlight=False, soft_wrap=True
    )


@keys_app.command("trust")
def keys_trust(
    public_key: Annotated[Path, typer.Argument(help="A publisher's public key (PEM).")],
    trusted_keys: Annotated[
        Path | None,
        typer.Option(
            "--trusted-keys",
            help="The file to add it to (default: $FACTORY_TRUSTED_KEYS, else "
            "~/.config/factory/trusted-keys).",
        ),
    ] = None,
) -> None:
    """Trust a publisher's key: add its fingerprint to your trusted-keys file, so `factory
    verify` authenticates releases it signed without --public-key."""
    from lineage.release.trust import default_trusted_keys_path, trust_key

    target = trusted_keys if trusted_keys is not None else default_trusted_keys_path()
    fingerprint = trust_key(public_key, target)
    console.print(f"[green]trusted[/] key SHA-256 {fingerprint} in {target}", highlight=False)


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
    console.print(
        "hand the .pub file or its fingerprint to whoever verifies your releases; to verify "
        f"them here without --public-key: factory keys trust {pair.public_key}",
        highlight=False,
    )


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
    allow_unsigned: Annotated[
        bool,
        typer.Option(
            "--allow-unsigned",
            help="Publish even when the signature its ledger record or report names is missing.",
        ),
    ] = False,
) -> None:
    """Publish a release to a Hugging Face dataset repo: check it (a release recorded as signed
    must carry a valid signature by the recorded key), upload the folder, tag it v-<version> and
    record the commit in the ledger. The token comes from HF_TOKEN only."""
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
            allow_unsigned=allow_unsigned,
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
