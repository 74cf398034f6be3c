"""The quality gate on the pipeline's own tables: what the Dagster checks and the release call.

`pipeline_gate` builds (once per process, per corpus and check config) the `QualityGate` of a
project: the train split of `corpus_documents` with its `document_embeddings`, clusters from
`semantic_map`, the declared evaluation sets, and the project's caches. `judge_synthetic`
judges `synthetic_samples` with it, storing each family's GX result and Data Docs under
`<home>/quality`. `filter_synthetic` applies the row filters to a synthesis run's samples.

Example:
    >>> report = judge_synthetic(samples, corpus, embeddings, semantic_map, gaps, config,
    ...                          run_name="run-1")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from checks.gate import QualityGate, embedded_eval_sets
from checks.measure import SampleSet
from checks.reference import QualityTools, reference_from_tables
from checks.row_filters import filter_samples
from checks.suites import SuiteReport
from factory.config import FactoryConfig
from factory.hashing import fingerprint, frame_fingerprint
from factory.home import Home
from factory.schemas import SYNTHETIC_REJECTS
from factory.vectors import vectors_for

if TYPE_CHECKING:
    from factory.embedding import Embedder
    from factory.synthesis import SynthesisResult

__all__ = [
    "filter_synthetic",
    "gate_results",
    "judge_synthetic",
    "pipeline_gate",
    "stored_checks",
]

_GATES: dict[str, QualityGate] = {}
_LOCK = threading.Lock()
_KEEP = 2


def pipeline_gate(
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    semantic_map: pl.DataFrame | None,
    config: FactoryConfig,
    embedder: Embedder | None = None,
) -> QualityGate:
    """The project's gate, reused while the corpus, its vectors and check config are unchanged."""
    from factory.embedding import shared_embedder

    embedder = embedder or shared_embedder(config.embedding)
    model = str(getattr(embedder, "fingerprint", ""))
    key = fingerprint(
        frame_fingerprint(corpus_documents, ["doc_id", "split"]),
        frame_fingerprint(document_embeddings, ["doc_id", "model_fingerprint"]),
        None if semantic_map is None else frame_fingerprint(semantic_map, ["doc_id", "cluster_id"]),
        config.checks.model_dump(mode="json"),
        config.gaps.target_mix,
        config.synthesis.label_top_k,
        model,
        str(config.home_dir),
    )
    with _LOCK:
        gate = _GATES.get(key)
    if gate is not None:
        return gate
    checks = config.checks
    reference = reference_from_tables(
        corpus_documents,
        document_embeddings,
        semantic_map,
        model_fingerprint=model or None,
        target_mix=config.gaps.target_mix,
    )
    tools = QualityTools.from_config(config, embedder)
    eval_sets = embedded_eval_sets(checks.eval_sets, tools, config.base_dir)
    gate = QualityGate(
        reference, eval_sets, checks, tools, label_top_k=config.synthesis.label_top_k
    )
    with _LOCK:
        if len(_GATES) >= _KEEP:
            _GATES.pop(next(iter(_GATES)))
        _GATES[key] = gate
    return gate


def filter_synthetic(
    result: SynthesisResult,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    config: FactoryConfig,
    embedder: Embedder,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted, rejects) of a synthesis run: its samples through the row filters (against the
    corpus, the declared evaluation sets and the corpus's language), its rejects joined by the
    filtered rows, sorted by `sample_id`."""
    corpus_vectors = vectors_for(document_embeddings, corpus_documents["doc_id"].to_list())
    tools = QualityTools.from_config(config, embedder)
    eval_sets = embedded_eval_sets(config.checks.eval_sets, tools, config.base_dir)
    corpus_texts = set(corpus_documents["text"].to_list())
    reference = reference_from_tables(corpus_documents, document_embeddings)
    accepted, filtered = filter_samples(
        result.samples,
        result.vectors,
        corpus_vectors,
        corpus_texts,
        config.checks,
        eval_sets,
        reference.expected_language(config.checks),
    )
    rejects = pl.concat([SYNTHETIC_REJECTS.validate(result.rejects), filtered])
    return accepted, rejects.sort("sample_id")


def judge_synthetic(
    synthetic_samples: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    semantic_map: pl.DataFrame | None,
    coverage_gaps: pl.DataFrame | None,
    config: FactoryConfig,
    *,
    run_name: str,
    embedder: Embedder | None = None,
    data_docs: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> SuiteReport:
    """Judge the accepted synthetic samples; store GX results (and Data Docs) under `run_name`.
    `progress(done, total)` follows the reference-LM scoring, the long part of a first run."""
    gate = pipeline_gate(corpus_documents, document_embeddings, semantic_map, config, embedder)
    gate.tools.progress = progress
    try:
        return _judge(gate, synthetic_samples, coverage_gaps, config, run_name, data_docs)
    finally:
        gate.tools.progress = None


def _judge(
    gate: QualityGate,
    synthetic_samples: pl.DataFrame,
    coverage_gaps: pl.DataFrame | None,
    config: FactoryConfig,
    run_name: str,
    data_docs: bool,
) -> SuiteReport:
    vectors = gate.tools.embed(synthetic_samples["text"].to_list())
    gap_ids = None
    if coverage_gaps is not None and coverage_gaps.height:
        targeted = (
            coverage_gaps.filter(pl.col("budget") > 0)
            if "budget" in coverage_gaps.columns
            else coverage_gaps
        )
        gap_ids = targeted["gap_id"].to_list()
    validator = None
    project = None
    if data_docs:
        from checks.datadocs import DocsProject

        project = DocsProject(Home.of(config).quality)
        validator = project.validator(run_name)
    report = gate.judge(SampleSet(synthetic_samples, vectors), gap_ids=gap_ids, validator=validator)
    if project is not None:
        index = project.index_url()
        report.docs = {"index": index or ""}
        for family, result in report.gx_results.items():
            meta = result.get("factory_meta", {})
            if meta.get("data_docs_page"):
                report.docs[family] = meta["data_docs_page"]
        out = project.results_dir(run_name) / "report.json"
        out.write_text(json.dumps(report.as_dict(), indent=1, sort_keys=True, default=str) + "\n")
        report.docs["report"] = str(out)
    return report


def stored_checks(config: FactoryConfig, run_name: str) -> list[dict[str, Any]] | None:
    """The check results `judge_synthetic` stored for run `run_name`, or None if it did not run."""
    from checks.datadocs import results_dir

    path = results_dir(Home.of(config).quality, run_name) / "report.json"
    if not path.is_file():
        return None
    return list(json.loads(path.read_text(encoding="utf-8"))["checks"])


def gate_results(
    synthetic_samples: pl.DataFrame,
    corpus_documents: pl.DataFrame,
    document_embeddings: pl.DataFrame,
    semantic_map: pl.DataFrame | None,
    coverage_gaps: pl.DataFrame | None,
    config: FactoryConfig,
    run_name: str,
    embedder: Embedder | None = None,
    *,
    rejudge: bool = False,
) -> list[dict[str, Any]]:
    """The check results the quality gate of run `run_name` stored, or judged now on
    `synthetic_samples` when it stored none or `rejudge` (the rows changed since, e.g. by an
    exclusion); as dicts (`CheckResult.as_dict()`)."""
    stored = None if rejudge else stored_checks(config, run_name)
    if stored is not None:
        return stored
    report = judge_synthetic(
        synthetic_samples, corpus_documents, document_embeddings, semantic_map, coverage_gaps,
        config, run_name=run_name, embedder=embedder, data_docs=False,
    )  # fmt: skip
    return [c.as_dict() for c in report.checks]
