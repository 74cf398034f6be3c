"""A round's gaps drawn on the map: file names per round and titles with the gap count."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from factory.config import GapsConfig
from factory.gaps import find_gaps, write_gap_pictures
from factory.gaps.pictures import gap_plot_stem
from tests.fixtures.planted_gaps import make_planted_map


def test_round_one_keeps_the_plain_name() -> None:
    assert gap_plot_stem(1) == "coverage_gaps"
    assert gap_plot_stem(2) == "coverage_gaps_round2"


def test_gap_pictures_are_named_by_round_and_titled_with_the_count(tmp_path: Path) -> None:
    planted = make_planted_map()
    sm, clusters = planted.semantic_map, planted.clusters
    gaps = find_gaps(sm, planted.vectors, clusters, GapsConfig(kinds=["sparse_region"])).gaps
    assert gaps.height >= 1
    texts = [f"text of {d}" for d in sm["doc_id"]]
    documents = pl.DataFrame({"doc_id": sm["doc_id"], "text": texts})
    pictures = write_gap_pictures(gaps, sm, clusters, documents, tmp_path, 2)
    assert pictures.png == tmp_path / "coverage_gaps_round2.png"
    assert pictures.html == tmp_path / "coverage_gaps_round2.html"
    assert pictures.png.read_bytes().startswith(b"\x89PNG")
    page = pictures.html.read_text(encoding="utf-8")
    assert f"round 2: {gaps.height} gaps" in page
    assert "by rank (marker by kind)" not in page  # that longer title is the PNG's
