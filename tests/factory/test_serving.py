"""The local llama.cpp server: starts, answers, stops by PID."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from factory.errors import BackendError
from factory.models import smollm2_gguf_path
from factory.serving import LlamaServer, free_port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_server_starts_answers_and_stops(tmp_path: Path) -> None:
    server = LlamaServer(smollm2_gguf_path(), log_dir=tmp_path, alias="smollm2", n_threads=2)
    with server:
        pid = server.pid
        assert pid is not None
        assert _alive(pid)
        assert server.base_url.startswith("http://127.0.0.1:")
        models = httpx.get(f"{server.base_url}/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["smollm2"]
        reply = httpx.post(
            f"{server.base_url}/chat/completions",
            json={
                "model": "smollm2",
                "messages": [{"role": "user", "content": "Say hello."}],
                "max_tokens": 8,
                "temperature": 0,
            },
            timeout=60,
        ).json()
        assert reply["choices"][0]["message"]["content"].strip()
    assert server.pid is None
    assert not _alive(pid)
    server.stop()  # idempotent
    assert server.log_path.is_file()


def test_a_server_that_cannot_start_shows_its_log(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf file")
    server = LlamaServer(bad, log_dir=tmp_path, startup_timeout_s=60)
    with pytest.raises(BackendError, match="exited with code") as info:
        server.start()
    assert "log" in str(info.value)
    assert server.pid is None


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="does not exist"):
        LlamaServer(tmp_path / "nope.gguf", log_dir=tmp_path).start()


def test_prefix_reuse_is_cut_to_whole_batches_of_the_previous_prompt() -> None:
    from factory.llama_server import aligned_prefix

    previous = list(range(200))
    assert aligned_prefix(previous, list(range(300)), 64) == 192
    assert aligned_prefix(previous, [*range(130), 999, 1000], 64) == 128
    assert aligned_prefix(previous, list(range(200)), 64) == 192  # keeps a token to evaluate
    assert aligned_prefix(previous, list(range(128)), 64) == 64
    assert aligned_prefix(previous, [5, *range(1, 300)], 64) == 0
    assert aligned_prefix([], list(range(300)), 64) == 0
