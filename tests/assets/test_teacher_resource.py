"""The teacher resource starts llama.cpp's server for a run and stops it, even on failure."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
import yaml

from assets.resources import FactoryResource, TeacherResource
from tests.fixtures.processes import server_pids

SEEN: dict[str, object] = {}


@dg.asset
def needs_teacher(teacher: TeacherResource) -> None:
    """Talks to the teacher once, then fails on purpose."""
    server_teacher = teacher.teacher
    SEEN["fingerprint"] = server_teacher.fingerprint
    SEEN["base_urls"] = [m.base_url for m in server_teacher.members]  # two servers by default
    reply = server_teacher.complete(
        [{"role": "user", "content": "Say hello."}],
        temperature=0.0,
        top_p=1.0,
        max_tokens=8,
        seed=0,
    )
    SEEN["text"] = reply.text
    raise RuntimeError("planned failure")


def test_server_is_stopped_by_pid_when_the_run_fails(tmp_path: Path) -> None:
    config = tmp_path / "factory.yaml"
    config.write_text(yaml.safe_dump({"home": "home"}))
    factory = FactoryResource(config_path=str(config))
    before = server_pids()
    result = dg.materialize(
        [needs_teacher],
        resources={"factory": factory, "teacher": TeacherResource(factory=factory)},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    urls = SEEN["base_urls"]
    assert isinstance(urls, list)
    assert len(set(urls)) == 2
    assert all(url.startswith("http://127.0.0.1:") for url in urls)
    assert SEEN["text"]
    assert len(str(SEEN["fingerprint"])) == 64
    assert server_pids() - before == set()
    log = tmp_path / "home" / "logs"
    assert any(log.iterdir()), "the server's log is kept in HOME/logs"


@pytest.mark.skipif(os.name != "posix", reason="uses /proc")
def test_proc_scan_finds_nothing_unrelated() -> None:
    assert os.getpid() not in server_pids()
