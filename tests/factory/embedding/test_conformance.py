"""One conformance suite, run against every registered embedder backend with a real model."""

from __future__ import annotations

import numpy as np
import pytest

from factory.config import EmbeddingConfig
from factory.embedding import (
    EMBEDDERS,
    Embedder,
    OpenAIEmbedder,
    SentenceTransformerEmbedder,
    create_embedder,
)

# How each registered backend is built for the suite: a real model, never a fake.
BACKEND_FIXTURES = {"openai": "llama_embedder", "sentence-transformers": "minilm"}
N = 24


def test_every_registered_backend_is_covered() -> None:
    assert sorted(BACKEND_FIXTURES) == sorted(EMBEDDERS)


@pytest.fixture(params=sorted(EMBEDDERS))
def embedder(request: pytest.FixtureRequest) -> Embedder:
    """A real embedder for each registered backend."""
    if request.param not in BACKEND_FIXTURES:
        pytest.fail(f"backend {request.param!r} has no fixture in BACKEND_FIXTURES")
    emb = request.getfixturevalue(BACKEND_FIXTURES[request.param])
    assert isinstance(emb, EMBEDDERS[request.param])
    return emb


@pytest.fixture
def texts(banking77_texts: list[str]) -> list[str]:
    return banking77_texts[:N]


def _fresh(embedder: Embedder) -> Embedder:
    """A new instance of the same model, built through the config and the registry."""
    if isinstance(embedder, OpenAIEmbedder):
        cfg = EmbeddingConfig(backend="openai", base_url=embedder.base_url, model=embedder.model)
    else:
        assert isinstance(embedder, SentenceTransformerEmbedder)
        cfg = EmbeddingConfig(model=embedder.model, device=embedder.device)
    fresh = create_embedder(cfg)
    assert fresh is not embedder
    return fresh


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_shape_dtype_and_unit_norms(embedder: Embedder, texts: list[str]) -> None:
    vectors = embedder.embed(texts)
    assert vectors.shape == (len(texts), embedder.dimension)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


def test_embed_batch_matches_the_contract(embedder: Embedder, texts: list[str]) -> None:
    rows = embedder.embed_batch(texts[:4])
    assert rows.shape == (4, embedder.dimension)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)


def test_deterministic(embedder: Embedder, texts: list[str]) -> None:
    np.testing.assert_allclose(embedder.embed(texts), embedder.embed(texts), atol=1e-6)


def test_order_preserved(embedder: Embedder, texts: list[str]) -> None:
    vectors = embedder.embed(texts)
    backwards = embedder.embed(texts[::-1])[::-1]
    # Batches are composed differently, so quantized kernels may differ in the last digits.
    assert _cosines(vectors, backwards).min() > 0.999
    assert (np.argmax(vectors @ backwards.T, axis=1) == np.arange(len(texts))).all()
    alone = np.stack([embedder.embed([t])[0] for t in texts[:3]])
    assert _cosines(vectors[:3], alone).min() > 0.999


def test_batches_and_progress(embedder: Embedder, texts: list[str]) -> None:
    seen: list[tuple[int, int]] = []
    vectors = embedder.embed(texts, batch_size=5, progress=lambda *p: seen.append(p))
    assert vectors.shape == (len(texts), embedder.dimension)
    assert seen[-1] == (len(texts), len(texts))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert _cosines(vectors, embedder.embed(texts)).min() > 0.999


def test_empty_input(embedder: Embedder) -> None:
    vectors = embedder.embed([])
    assert vectors.shape == (0, embedder.dimension)
    assert vectors.dtype == np.float32


def test_fingerprint_is_stable(embedder: Embedder) -> None:
    info = embedder.fingerprint_info()
    assert embedder.fingerprint == embedder.fingerprint == info["fingerprint"]
    assert len(embedder.fingerprint) == 64
    assert isinstance(info["weights_verifiable"], bool)
    assert {"kind", "model", "weights_verifiable"} <= set(info)
    assert _fresh(embedder).fingerprint == embedder.fingerprint


def test_similar_sentences_are_closer_than_unrelated(embedder: Embedder) -> None:
    a, b, c = embedder.embed(
        [
            "How do I reset my card PIN?",
            "I forgot my PIN, how can I change it?",
            "The weather in Paris is sunny today.",
        ]
    )
    assert a @ b > a @ c
    assert a @ b > b @ c


def test_fingerprints_differ_across_backends(request: pytest.FixtureRequest) -> None:
    prints = {name: request.getfixturevalue(f).fingerprint for name, f in BACKEND_FIXTURES.items()}
    assert len(set(prints.values())) == len(prints)


def test_weights_verifiable_only_for_local_weights(request: pytest.FixtureRequest) -> None:
    local = request.getfixturevalue("minilm").fingerprint_info()
    remote = request.getfixturevalue("llama_embedder").fingerprint_info()
    assert local["weights_verifiable"] is True
    assert remote["weights_verifiable"] is False
