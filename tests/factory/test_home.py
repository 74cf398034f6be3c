"""`Home` names every path under the project home, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.config import FactoryConfig
from factory.home import Home, shared_models, user_cache


def test_every_path_lies_under_the_root(tmp_path: Path) -> None:
    home = Home(tmp_path / "h")
    assert home.table_path("clusters") == tmp_path / "h" / "tables" / "clusters.parquet"
    assert home.table_path("coverage_gaps", "2") == (
        tmp_path / "h" / "tables" / "coverage_gaps" / "2.parquet"
    )
    assert home.ledger == tmp_path / "h" / "provenance" / "ledger.jsonl"
    assert home.openlineage == tmp_path / "h" / "provenance" / "openlineage.jsonl"
    assert home.release_dir("3f2a9c1d0b7e") == tmp_path / "h" / "releases" / "3f2a9c1d0b7e"
    assert home.report_png("3f2a9c1d0b7e").name == "3f2a9c1d0b7e.report.png"
    assert home.signing_key == tmp_path / "h" / "keys" / "release-signing.pem"
    assert home.teacher_cache == tmp_path / "h" / "cache" / "teacher-responses.sqlite"
    for name in ("lancedb", "plots", "students", "quality", "shards", "logs"):
        assert getattr(home, name) == tmp_path / "h" / name
    assert home.dagster == tmp_path / "h" / "dagster"
    assert not home.root.exists()
    assert home.ensure().root.is_dir()


def test_of_a_config_resolves_home_and_the_signing_key_against_the_config_folder(
    tmp_path: Path,
) -> None:
    data = {"home": "out", "release": {"signing_key": "keys/team.pem"}}
    home = Home.of(FactoryConfig.from_dict(data, base_dir=tmp_path))
    assert home.root == (tmp_path / "out").resolve()
    assert home.signing_key == (tmp_path / "keys" / "team.pem").resolve()


def test_of_a_release_finds_its_home_only_under_releases(tmp_path: Path) -> None:
    inside = tmp_path / "h" / "releases" / "v1"
    found = Home.of_release(inside)
    assert found is not None
    assert found.ledger == (tmp_path / "h" / "provenance" / "ledger.jsonl").resolve()
    assert Home.of_release(tmp_path / "copies" / "v1") is None


def test_the_user_cache_follows_factory_cache_dir_then_xdg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FACTORY_CACHE_DIR", str(tmp_path / "mine"))
    assert shared_models() == tmp_path / "mine" / "models"
    monkeypatch.delenv("FACTORY_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg" / "factory"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert user_cache() == Path.home() / ".cache" / "factory"
