"""Sparse-region gaps: budgets, ids, the planted thin cloud, and banking77 with the real MiniLM."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from factory.config import GapsConfig, MapConfig, SplitConfig
from factory.corpus.splits import assign_split
from factory.errors import FactoryError, SchemaError
from factory.gaps import (
    SPARSE_REGION,
    find_sparse_gaps,
    gap_id,
    gap_points,
    percentile_ranks,
    split_budget,
)
from factory.hashing import content_hash
from factory.mapping import build_map, plot_map
from factory.schemas import COVERAGE_GAPS
from tests.factory.gaps.gaps_planted import JUNK, THIN, PlantedMap, make_planted_map

RATIONALE = re.compile(
    r"^sparse region .+: density \d\.\d\d \(\d+(st|nd|rd|th) percentile of train\), "
    r"nearest train neighbour at cosine \d\.\d\d; anchors from \d+ clusters?"
)


@pytest.fixture(scope="module")
def planted() -> PlantedMap:
    """The hand-mapped planted corpus."""
    return make_planted_map()


def _check_invariants(gaps: pl.DataFrame, semantic_map: pl.DataFrame, config: GapsConfig) -> None:
    COVERAGE_GAPS.validate(gaps)
    split_of = dict(zip(semantic_map["doc_id"], semantic_map["split"], strict=True))
    assert gaps["rank"].to_list() == list(range(1, gaps.height + 1))
    scores = gaps["score"].to_list()
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert (gaps["kind"] == SPARSE_REGION).all()
    assert sum(gaps["budget"]) == config.total_budget
    assert gaps["budget"].min() >= 1
    targets = np.asarray(gaps["target"].to_list(), dtype=np.float32)
    assert np.allclose(np.linalg.norm(targets, axis=1), 1.0, atol=1e-5)
    cos = targets @ targets.T
    np.fill_diagonal(cos, 0.0)
    assert cos.max() <= 0.9 + 1e-6
    seen: set[str] = set()
    for gid, anchors in zip(gaps["gap_id"], gaps["anchor_doc_ids"], strict=True):
        assert len(anchors) == config.anchors_per_gap
        assert all(split_of[a] == "train" for a in anchors)
        assert seen.isdisjoint(anchors)
        seen.update(anchors)
        assert gid == gap_id(SPARSE_REGION, anchors)
    assert all(RATIONALE.match(r) for r in gaps["rationale"]), gaps["rationale"].to_list()


# --- pieces -------------------------------------------------------------------------------------


def test_split_budget_gives_one_each_and_the_rest_by_score() -> None:
    assert split_budget([0.9, 0.5, 0.1], 10) == [5, 3, 2]
    assert split_budget([1.0, 1.0, 1.0], 7) == [3, 2, 2]
    assert split_budget([0.2, 0.1], 2) == [1, 1]
    assert split_budget([], 5) == []
    budgets = split_budget([0.99, 0.7, 0.69, 0.3, 0.01], 90)
    assert sum(budgets) == 90
    assert budgets == sorted(budgets, reverse=True)


def test_split_budget_refuses_too_small_a_budget() -> None:
    with pytest.raises(FactoryError, match="cannot give 1 sample to each of 3 gaps"):
        split_budget([0.5, 0.4, 0.3], 2)


def test_percentile_ranks_are_mid_ranks() -> None:
    ranks = percentile_ranks(np.array([0.3, 0.1, 0.2, 0.2]))
    assert ranks.tolist() == [0.875, 0.125, 0.5, 0.5]


def test_gap_id_ignores_anchor_order_but_not_kind() -> None:
    assert gap_id(SPARSE_REGION, ["b", "a"]) == gap_id(SPARSE_REGION, ["a", "b"])
    assert gap_id(SPARSE_REGION, ["a", "b"]) != gap_id("bridge", ["a", "b"])
    assert re.fullmatch(r"[0-9a-f]{16}", gap_id(SPARSE_REGION, ["a"]))


# --- the planted corpus -------------------------------------------------------------------------


def test_sparse_gaps_land_in_the_thin_cloud_not_on_junk(planted: PlantedMap) -> None:
    config = GapsConfig(max_gaps=10, total_budget=30)
    gaps = find_sparse_gaps(planted.semantic_map, planted.vectors, planted.clusters, config)
    _check_invariants(gaps, planted.semantic_map, config)
    where = [{planted.groups[a] for a in anchors} for anchors in gaps["anchor_doc_ids"]]
    assert all(JUNK not in groups for groups in where)
    thin = [groups == {THIN} for groups in where]
    assert sum(thin) >= 2
    first_other = thin.index(False) if False in thin else len(thin)
    assert all(thin[:first_other])  # thin-cloud gaps rank first ...
    assert not any(thin[first_other:])  # ... and none comes later
    assert (gaps.filter(pl.col("rank") <= sum(thin))["cluster_id"] == THIN).all()
    assert gaps["rationale"][0].startswith("sparse region near 'topicg")  # its cluster's label


def test_sparse_gaps_do_not_depend_on_row_order(planted: PlantedMap) -> None:
    config = GapsConfig(max_gaps=12)
    gaps = find_sparse_gaps(planted.semantic_map, planted.vectors, planted.clusters, config)
    perm = np.random.default_rng(3).permutation(planted.semantic_map.height)
    shuffled = find_sparse_gaps(
        planted.semantic_map[perm], planted.vectors[perm], planted.clusters.reverse(), config
    )
    assert gaps.equals(shuffled)


def test_budget_smaller_than_gap_count_keeps_the_top_gaps(planted: PlantedMap) -> None:
    full = find_sparse_gaps(
        planted.semantic_map, planted.vectors, planted.clusters, GapsConfig(max_gaps=8)
    )
    small = find_sparse_gaps(
        planted.semantic_map,
        planted.vectors,
        planted.clusters,
        GapsConfig(max_gaps=8, total_budget=3),
    )
    assert full.height == 8
    assert small["gap_id"].to_list() == full["gap_id"].head(3).to_list()
    assert small["budget"].to_list() == [1, 1, 1]


def test_misaligned_vectors_are_refused(planted: PlantedMap) -> None:
    with pytest.raises(SchemaError, match="vectors has 10 rows"):
        find_sparse_gaps(planted.semantic_map, planted.vectors[:10], planted.clusters, GapsConfig())


def test_gap_points_are_the_mean_of_the_anchors(planted: PlantedMap) -> None:
    gaps = find_sparse_gaps(
        planted.semantic_map, planted.vectors, planted.clusters, GapsConfig(max_gaps=4)
    )
    points = gap_points(gaps, planted.semantic_map)
    assert points.columns == ["x", "y", "rank"]
    assert points["rank"].to_list() == gaps["rank"].to_list()
    anchors = gaps["anchor_doc_ids"][1].to_list()
    rows = planted.semantic_map.filter(pl.col("doc_id").is_in(anchors))
    assert points["x"][1] == pytest.approx(rows["x"].cast(pl.Float64).mean())
    assert points["y"][1] == pytest.approx(rows["y"].cast(pl.Float64).mean())


# --- real data, real model ----------------------------------------------------------------------


@pytest.mark.slow
def test_banking77_map_and_gaps_with_real_minilm(
    banking77_dir: Path, minilm: object, tmp_path: Path
) -> None:
    with (banking77_dir / "train.csv").open(encoding="utf-8", newline="") as fh:
        rows = [row["text"] for _, row in zip(range(1000), csv.DictReader(fh), strict=False)]
    texts = list(dict.fromkeys(rows))
    ids = [content_hash(t) for t in texts]
    splits = [assign_split(i, SplitConfig()) for i in ids]
    vectors = minilm.embed(texts)  # type: ignore[attr-defined]

    result = build_map(ids, splits, vectors, texts, MapConfig())
    clusters = result.clusters
    assert clusters.height >= 10
    assert (clusters["keywords"].list.len() >= 3).all()
    assert (clusters["label"].str.count_matches(" / ") == 2).all()
    assert 0.0 <= result.noise_share < 0.5

    config = GapsConfig()
    gaps = find_sparse_gaps(result.semantic_map, result.vectors, clusters, config)
    assert gaps.height >= 20
    _check_invariants(gaps, result.semantic_map, config)

    path = plot_map(
        result.semantic_map,
        clusters,
        gap_points(gaps, result.semantic_map),
        tmp_path / "banking77_map.png",
        "banking77, first 1000 rows",
    )
    assert path.stat().st_size > 20_000
    print(  # the figures reported for this slice (visible with -s)
        f"banking77 slice: {len(texts)} docs, {clusters.height} clusters, "
        f"noise {result.noise_share:.1%}, {gaps.height} gaps, timings "
        f"{ {k: round(v, 1) for k, v in result.timings.items()} }"
    )
