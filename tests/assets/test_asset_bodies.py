"""Asset bodies called directly on small frames (no run, no IO manager)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import pytest
import yaml

from assets.embeddings import document_embeddings
from assets.resources import FactoryResource
from factory.errors import FactoryError
from factory.hashing import content_hash
from factory.schemas import CORPUS_DOCUMENTS, DOCUMENT_EMBEDDINGS


def _documents(texts: list[str]) -> pl.DataFrame:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = {
        "doc_id": [content_hash(t) for t in texts],
        "text": texts,
        "label": [None] * len(texts),
        "answer": [None] * len(texts),
        "split": ["train"] * len(texts),
        "source_id": ["s"] * len(texts),
        "source_uri": ["memory"] * len(texts),
        "license": ["MIT"] * len(texts),
        "ingested_at": [now] * len(texts),
    }
    return CORPUS_DOCUMENTS.validate(pl.DataFrame(rows, schema=CORPUS_DOCUMENTS.empty().schema))


def test_document_embeddings_body_on_a_small_frame(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "home"}))
    factory = FactoryResource(config_path=str(config))
    docs = _documents(["How do I top up my card?", "My transfer has not arrived.", "Hello"])
    with dg.build_asset_context(resources={"factory": factory}) as context:
        output = document_embeddings(context=context, corpus_documents=docs)
        again = document_embeddings(context=context, corpus_documents=docs)
    frame = DOCUMENT_EMBEDDINGS.validate(output.value)
    assert frame["doc_id"].to_list() == docs["doc_id"].to_list()
    vectors = frame["vector"].to_numpy()
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert output.metadata["embedded"].value == 3
    assert again.metadata["embedded"].value == 0
    assert again.data_version == output.data_version


def test_coverage_gaps_body_reads_its_reference_source_and_evaluation(tmp_path: Path) -> None:
    """The gaps asset on a planted map: a reference file, evaluation results, both pictures."""
    from assets.gaps import coverage_gaps
    from factory.embedding import shared_embedder
    from factory.mapping import build_map

    topics = {
        "card": ["my card has not arrived yet", "when will my new card come", "card delivery"],
        "fee": ["why was I charged a fee", "there is a fee on my transfer", "fee for top up"],
        "pin": ["how do I change my pin", "I forgot my pin", "my pin is blocked"],
    }
    texts = [f"{t} {i}" for group in topics.values() for t in group for i in range(8)]
    docs = _documents(texts)
    splits = ["validation" if i % 6 == 0 else "train" for i in range(docs.height)]
    docs = docs.with_columns(pl.Series("split", splits))
    reference = tmp_path / "production.jsonl"
    reference.write_text(
        "".join(f'{{"text": "is there an atm withdrawal limit {i}"}}\n' for i in range(12)),
        encoding="utf-8",
    )
    held = docs.filter(pl.col("split") == "validation")["doc_id"].to_list()
    evaluation = tmp_path / "eval.csv"
    evaluation.write_text(
        "doc_id,correct\n" + "".join(f"{d},{i % 2 == 0}\n" for i, d in enumerate(held)),
        encoding="utf-8",
    )
    config = tmp_path / "factory.yaml"
    gaps = {
        "k": 4,
        "reference": "source",
        "reference_source": {"id": "prod", "kind": "jsonl", "path": str(reference)},
        "evaluation_path": str(evaluation),
        "target_mix": "uniform",
        "total_budget": 20,
    }
    config.write_text(yaml.safe_dump({"home": "home", "gaps": gaps}))
    factory = FactoryResource(config_path=str(config))
    embedder = shared_embedder(factory.config.embedding)
    vectors = embedder.embed(docs["text"].to_list())
    mapped = build_map(
        docs["doc_id"].to_list(), splits, vectors, docs["text"].to_list(), factory.config.map, k=4
    )
    embeddings = pl.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "split": splits,
            "vector": vectors,
            "model_fingerprint": embedder.fingerprint,
        }
    )
    with dg.build_asset_context(resources={"factory": factory}) as context:
        output = coverage_gaps(
            context=context,
            semantic_map=mapped.semantic_map,
            clusters=mapped.clusters,
            corpus_documents=docs,
            document_embeddings=embeddings,
        )
        frame = output.value
        assert frame.height >= 1
        assert set(frame["kind"]) <= {"coverage", "sparse_region", "bridge", "under_represented",
                                      "student_failure"}  # fmt: skip
        coverage = frame.filter(pl.col("kind") == "coverage")
        assert coverage.height == 1  # the ATM questions are nowhere in the corpus
        assert "withdrawal" not in " ".join(docs["text"])
        assert int(frame["budget"].sum()) == 20
        meta = output.metadata
        assert (
            Path(meta["interactive_map"].value).read_text(encoding="utf-8").startswith("<!doctype")
        )
        assert Path(meta["map_path"].value).stat().st_size > 10_000
        assert "rationale" in meta["top_gaps"].value
        assert meta["proposed_by_kind"].value["student_failure"] >= 1
        other_model = embeddings.with_columns(pl.lit("another-model").alias("model_fingerprint"))
        with pytest.raises(FactoryError, match="rematerialize document_embeddings"):
            coverage_gaps(
                context=context,
                semantic_map=mapped.semantic_map,
                clusters=mapped.clusters,
                corpus_documents=docs,
                document_embeddings=other_model,
            )
