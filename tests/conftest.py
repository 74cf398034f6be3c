"""Shared fixtures: isolated homes, the shared test data, and real models loaded once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_data_dir() -> Path | None:
    """`$FACTORY_TEST_DATA`, else `../shared/data` beside the checkout, else None."""
    env = os.environ.get("FACTORY_TEST_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared" / "data")
    return next((c for c in candidates if c.is_dir()), None)


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
