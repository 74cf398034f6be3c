"""Release layer: `dataset_release`, a folder with Parquet, the dataset card, the provenance
report and its exports (Croissant, PROV, OpenLineage events); see docs/release.md.

The release is a library (`lineage.release`): this asset loads the round's tables, asks the
quality gate for its results, and hands both to `build_release_facts` and `build_release`."""

from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from assets.lineage_step import lineage_step
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, rounds_through
from factory.config import FactoryConfig
from factory.home import Home
from factory.schemas import DATASET_RELEASE
from lineage.release.exclusions import Exclusion
from lineage.release.facts import RELEASE_CODE_VERSION, ReleaseFacts, ReleaseRun, ReleaseTables
from lineage.release.info import SigningEntry

__all__ = ["RELEASE_CODE_VERSION", "ReleaseRequest", "dataset_release"]

_INPUTS = [
    "corpus_documents", "corpus_quarantine", "clusters", "semantic_map", "coverage_gaps",
    "synthetic_samples", "synthetic_rejects", "document_embeddings", "student_checkpoint",
    "student_evaluation",
]  # fmt: skip


class ReleaseRequest(dg.Config):
    """Run configuration of `dataset_release` (`factory release --exclude`, or the launchpad)."""

    exclude: list[str] = Field(
        default_factory=list,
        description="doc_ids or source_ids to leave out, with every synthetic row derived from "
        "them (a takedown or a revoked license); recorded in the report and the ledger.",
    )
    reason: str | None = Field(None, description="Why they are excluded, for the record.")


@dg.asset(group_name="release", code_version=RELEASE_CODE_VERSION, partitions_def=ROUNDS)
def dataset_release(
    context: dg.AssetExecutionContext,
    factory: FactoryResource,
    corpus_documents: pl.DataFrame,
    corpus_quarantine: pl.DataFrame,
    clusters: pl.DataFrame,
    semantic_map: pl.DataFrame,
    coverage_gaps: pl.DataFrame,
    synthetic_samples: pl.DataFrame,
    synthetic_rejects: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    student_checkpoint: pl.DataFrame,
    student_evaluation: pl.DataFrame,
    config: ReleaseRequest,
) -> dg.Output[pl.DataFrame]:
    """Write, sign and record the release folder: data/*.parquet, README.md card,
    report.html/.md/.json, Croissant, PROV, MANIFEST.sha256 and signature.sig (docs/release.md).

    Round k's release holds the synthetic rows of rounds 1..k and the checks of round k's gate;
    with `exclude`, the named documents or sources and every row derived from them are left out
    and the checks are judged again on what remains.
    """
    from lineage import Ledger
    from lineage.release.build import build_release
    from lineage.release.facts import ReleaseTables, build_release_facts

    request, settings = config, factory.config
    with lineage_step(context, factory, "dataset_release", RELEASE_CODE_VERSION, _INPUTS) as step:
        home, round_number = factory.home, current_round(context)
        samples = rounds_through(home, "synthetic_samples", round_number, synthetic_samples)
        dropped = _excluded(context, request, home, corpus_documents, samples)
        key = home.signing_key if settings.release.sign else None
        tables = ReleaseTables(
            corpus=dropped.corpus,
            quarantine=corpus_quarantine,
            clusters=clusters,
            semantic_map=semantic_map,
            gaps=rounds_through(home, "coverage_gaps", round_number, coverage_gaps),
            samples=dropped.samples,
            rejects=rounds_through(home, "synthetic_rejects", round_number, synthetic_rejects),
            checkpoint=student_checkpoint,
            evaluation=student_evaluation,
        )
        gate = (document_embeddings, semantic_map, coverage_gaps)
        run = _release_run(context, settings, tables, gate, step.input_versions, dropped, key)
        facts = build_release_facts(settings, home, tables, run, Ledger(home.ledger).records())
        built = build_release(home, facts, key, record=settings.lineage.enabled)
        frame = _release_row(built.info.path, facts)
        step.output("dataset_release", frame, DATASET_RELEASE, facts.version)
        step.summary = f"{dropped.samples.height} samples in {built.info.path.name}" + (
            ", signed" if key is not None else ", unsigned"
        )
    context.log.info(f"release written to {built.info.path}; report: {frame['report_path'][0]}")
    preview = _render_preview(context, built.info.path, home.report_png(facts.folder))
    signed_by = run.signing["public_key_fingerprint"] if run.signing else "unsigned"
    return dg.Output(
        frame,
        data_version=dg.DataVersion(facts.version),
        metadata={
            **table_metadata(frame, DATASET_RELEASE),
            "report": dg.MetadataValue.path(frame["report_path"][0]),
            "release": dg.MetadataValue.path(str(built.info.path)),
            "files": built.files,
            "manifest_sha256": built.record["manifest_sha256"],
            "signed_with": signed_by,
            **({"report_png": dg.MetadataValue.path(str(preview))} if preview else {}),
            **({"excluded": ", ".join(request.exclude)} if request.exclude else {}),
        },
    )


def _excluded(
    context: dg.AssetExecutionContext,
    request: ReleaseRequest,
    home: Home,
    corpus: pl.DataFrame,
    samples: pl.DataFrame,
) -> Exclusion:
    """The corpus and the samples (once each) left after `request.exclude`, and what it took."""
    from lineage.release.exclusions import exclude

    samples = samples.unique("sample_id", keep="first", maintain_order=True)
    if not request.exclude:
        return Exclusion([], corpus, samples)
    dropped = exclude(home, request.exclude, request.reason, corpus, samples)
    context.log.info(f"excluded {_described(dropped)}")
    return dropped


def _release_run(
    context: dg.AssetExecutionContext,
    settings: FactoryConfig,
    tables: ReleaseTables,
    gate_inputs: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
    input_versions: dict[str, str | None],
    dropped: Exclusion,
    key: Path | None,
) -> ReleaseRun:
    """What the release states beside its tables: the quality gate's results on the released
    samples (the stored ones of this run, unless an exclusion changed the rows), the scanner of
    personal data, the row filters, the exclusions and the signing key's facts."""
    from checks.pipeline import gate_results
    from checks.privacy import NOT_DETECTED, SCAN_METHOD, scan_texts
    from checks.row_filters import REJECT_CATEGORIES
    from factory.embedding import shared_embedder
    from lineage.release.facts import PiiScanner

    run_id, embedder = context.run.run_id, shared_embedder(settings.embedding)
    embeddings, semantic_map, coverage_gaps = gate_inputs
    checks = gate_results(
        tables.samples, tables.corpus, embeddings, semantic_map, coverage_gaps, settings, run_id,
        embedder, rejudge=bool(dropped.entries),
    )  # fmt: skip
    return ReleaseRun(
        run_id=run_id,
        input_versions=input_versions,
        embedder_fingerprint=embedder.fingerprint,
        checks=checks,
        scanner=PiiScanner(SCAN_METHOD, NOT_DETECTED, scan_texts),
        filters=list(REJECT_CATEGORIES),
        excluded=[e["query"] for e in dropped.entries],
        exclusions=dropped.entries,
        signing=None if key is None else _signing(context, key),
    )


def _release_row(path: Path, facts: ReleaseFacts) -> pl.DataFrame:
    """The `dataset_release` table: where the release is and what it holds."""
    report, tables = facts.report, facts.tables
    passed = sum(1 for c in report.checks if c["passed"])
    return pl.DataFrame(
        {
            "release_path": [str(path)],
            "report_path": [str(path / "report.html")],
            "synthetic_rows": [tables["synthetic"].height],
            "train_rows": [tables["train"].height],
            "checks_passed": [passed],
            "checks_failed": [len(report.checks) - passed],
        },
        schema=DATASET_RELEASE.empty().schema,
    )


def _described(dropped: Exclusion) -> str:
    return "; ".join(
        f"{e['kind']} {e['query']}: {e['documents']} documents, "
        f"{e['synthetic_samples']} synthetic rows"
        for e in dropped.entries
    )


def _signing(context: dg.AssetExecutionContext, key: Path) -> SigningEntry:
    """The report's signing facts for `key`, saying so when the key pair had to be created."""
    from lineage.release.build import signing_entry

    entry, created = signing_entry(key)
    if created is not None:
        context.log.info(
            f"created the release signing key {created.private_key} (public half "
            f"{created.public_key}, SHA-256 {created.fingerprint}); back it up, it never enters "
            "a release"
        )
    return entry


def _render_preview(context: dg.AssetExecutionContext, release: Path, target: Path) -> Path | None:
    """report.html rendered to HOME/releases/<version>.report.png for review (outside the
    signed folder); a missing Chromium is a warning, not a failed release."""
    from lineage import LineageError
    from lineage.release import render_png

    try:
        return render_png(release / "report.html", target)
    except LineageError as exc:
        context.log.warning(f"report.png not rendered: {exc}")
        return None
