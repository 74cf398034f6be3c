"""`local_token_counter`: the vocab-only load is quiet on stderr and its errors still surface."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from factory.config import TeacherConfig
from factory.teacher import local_token_counter


class NoisyVocab:
    """Stands in for `llama_cpp.Llama`: logs to fd 2 and `sys.stderr`, fails on 'broken'."""

    def __init__(self, model_path: str, vocab_only: bool, verbose: bool) -> None:
        os.write(2, b"ggml: a C-level log line\n")
        print("llama_context: n_ctx_seq (512) > n_ctx_train (0)", file=sys.stderr)
        if "broken" in model_path:
            msg = f"Failed to load model from file: {model_path}"
            raise ValueError(msg)

    def tokenize(self, text: bytes, add_bos: bool, special: bool) -> list[bytes]:
        return text.split()


def test_vocab_load_is_silent_on_stderr_but_errors_surface(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "Llama", NoisyVocab)
    count = local_token_counter(TeacherConfig(model_path=str(tmp_path / "model.gguf")))
    assert count is not None
    assert count("two words") == 2
    with pytest.raises(ValueError, match="Failed to load model"):
        local_token_counter(TeacherConfig(model_path=str(tmp_path / "broken.gguf")))
    os.write(2, b"fd 2 is back\n")
    print("sys.stderr is back", file=sys.stderr)
    assert capfd.readouterr().err == "fd 2 is back\nsys.stderr is back\n"


def test_an_api_teacher_has_no_local_counter() -> None:
    assert local_token_counter(TeacherConfig(backend="openai")) is None
