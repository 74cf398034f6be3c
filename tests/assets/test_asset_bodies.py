"""Asset bodies called directly on small frames (no run, no IO manager)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import numpy as np
import polars as pl
import yaml

from assets.embeddings import document_embeddings
from assets.resources import FactoryResource
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
    context = dg.build_asset_context(resources={"factory": factory})
    output = document_embeddings(context=context, corpus_documents=docs)
    frame = DOCUMENT_EMBEDDINGS.validate(output.value)
    assert frame["doc_id"].to_list() == docs["doc_id"].to_list()
    vectors = frame["vector"].to_numpy()
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert output.metadata["embedded"].value == 3
    again = document_embeddings(context=context, corpus_documents=docs)
    assert again.metadata["embedded"].value == 0
    assert again.data_version == output.data_version
