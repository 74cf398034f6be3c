"""Fixtures of the map tests: the planted corpus and its map, built once per session."""

from __future__ import annotations

import pytest

from factory.config import MapConfig
from factory.mapping import MapResult, build_map
from tests.fixtures.planted_map import Planted, make_planted


@pytest.fixture(scope="session")
def planted() -> Planted:
    """The planted corpus (seed 0)."""
    return make_planted()


@pytest.fixture(scope="session")
def planted_map(planted: Planted) -> MapResult:
    """build_map on the planted corpus with default settings."""
    return build_map(planted.doc_ids, planted.splits, planted.vectors, planted.texts, MapConfig())
