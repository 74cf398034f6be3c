"""The real default teacher: SmolLM2-135M-Instruct served by llama.cpp through `start_teacher`."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from factory.config import TeacherConfig
from factory.hashing import fingerprint, hash_file
from factory.models import smollm2_gguf_path
from factory.teacher import OpenAIChatTeacher, local_token_counter, start_teacher
from factory.teacher.pool import TeacherPool
from tests.fixtures.processes import server_pids

MSGS = [{"role": "user", "content": "Name one colour."}]


def _use_then_fail(cfg: TeacherConfig, gguf: Path, log_dir: Path, seen: list[int]) -> None:
    """Check the running teacher, note its servers' ports, then raise inside the context."""
    with start_teacher(cfg, log_dir) as teacher:
        members = teacher.members if isinstance(teacher, TeacherPool) else [teacher]
        assert len(members) == cfg.servers
        for member in members:
            assert isinstance(member, OpenAIChatTeacher)
            port = urlsplit(member.base_url).port or 0
            seen.append(port)
            assert server_pids(port)
        assert teacher.fingerprint_info()["weights_verifiable"] is True
        assert teacher.fingerprint == fingerprint("chat", cfg.model, hash_file(gguf))
        a = teacher.complete(MSGS, temperature=0.8, top_p=0.95, max_tokens=12, seed=7)
        b = teacher.complete(MSGS, temperature=0.8, top_p=0.95, max_tokens=12, seed=7)
        assert a.text.strip()
        assert a.text == b.text
        assert 0 < a.completion_tokens <= 12
        assert a.prompt_tokens > 0
        assert a.finish_reason in {"stop", "length"}
        raise RuntimeError("boom")  # the server must stop on an exception too


@pytest.fixture(scope="module")
def gguf() -> Path:
    try:
        return smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")


def test_llama_cpp_teacher_is_seeded_verifiable_and_stopped(gguf: Path, tmp_path: Path) -> None:
    ports: list[int] = []
    with pytest.raises(RuntimeError, match="boom"):
        _use_then_fail(TeacherConfig(), gguf, tmp_path, ports)
    assert len(set(ports)) == TeacherConfig().servers == 2
    assert all(server_pids(port) == set() for port in ports)
    logs = {"llama-server-smollm2.log", "llama-server-smollm2-2.log"}
    assert logs <= {p.name for p in tmp_path.iterdir()}


def test_one_server_is_the_teacher_itself(gguf: Path, tmp_path: Path) -> None:
    ports: list[int] = []
    with pytest.raises(RuntimeError, match="boom"):
        _use_then_fail(TeacherConfig(servers=1), gguf, tmp_path, ports)
    assert len(ports) == 1
    assert server_pids(ports[0]) == set()


def test_local_token_counter_loads_the_vocab_quietly(capfd: pytest.CaptureFixture[str]) -> None:
    try:
        smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")
    count = local_token_counter(TeacherConfig())
    assert count is not None
    assert count("Name one colour.") > 0
    assert capfd.readouterr().err == ""
