"""find_gaps: the five kinds on hand-built maps, the one scale, ranking, budgets and ids."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest

from factory.config import GapsConfig
from factory.errors import FactoryError, SchemaError
from factory.gaps import (
    BRIDGE,
    COVERAGE,
    SPARSE_REGION,
    STUDENT_FAILURE,
    UNDER_REPRESENTED,
    Reference,
    find_gaps,
    gap_points,
)
from factory.gaps.budget import split_budget
from factory.gaps.candidates import shortfall
from factory.gaps.records import gap_id
from factory.gaps.sparse import percentile_ranks
from factory.hashing import content_hash
from factory.mapping.build import clusters_frame
from factory.schemas import COVERAGE_GAPS
from tests.fixtures.planted_gaps import (
    DIM,
    JUNK,
    THIN,
    PlantedMap,
    hand_map,
    make_planted_map,
)


@pytest.fixture(scope="module")
def planted() -> PlantedMap:
    """The hand-mapped planted corpus."""
    return make_planted_map()


def _only(kind: str, **kw: object) -> GapsConfig:
    return GapsConfig(kinds=[kind], **kw)  # type: ignore[arg-type]


def _check_invariants(gaps: pl.DataFrame, semantic_map: pl.DataFrame, config: GapsConfig) -> None:
    COVERAGE_GAPS.validate(gaps)
    split_of = dict(zip(semantic_map["doc_id"], semantic_map["split"], strict=True))
    assert gaps["rank"].to_list() == list(range(1, gaps.height + 1))
    scores = gaps["score"].to_list()
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 < s <= 1.0 for s in scores)
    for kind, score, short, obs, exp in gaps.select(
        "kind", "score", "shortfall", "observed", "expected"
    ).iter_rows():
        assert short == pytest.approx(shortfall(obs, exp))
        assert score == pytest.approx(config.kind_weights[kind] * short)
    assert sum(gaps["budget"]) == config.total_budget
    assert gaps["budget"].min() >= 1
    targets = np.asarray(gaps["target"].to_list(), dtype=np.float32)
    assert np.allclose(np.linalg.norm(targets, axis=1), 1.0, atol=1e-5)
    cos = targets @ targets.T
    np.fill_diagonal(cos, 0.0)
    assert cos.max(initial=0.0) <= config.max_target_cosine + 1e-6
    for row in gaps.iter_rows(named=True):
        assert all(split_of[a] == "train" for a in row["anchor_doc_ids"])
        assert row["gap_id"] == gap_id(row["kind"], row["anchor_doc_ids"], row["evidence_doc_ids"])
        assert row["rationale"]


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


def test_shortfall_is_the_missing_share_clipped() -> None:
    assert shortfall(3, 41) == pytest.approx(38 / 41)
    assert shortfall(50, 41) == 0.0
    assert shortfall(0, 10) == 1.0
    assert shortfall(1, 0) == 0.0


def test_percentile_ranks_are_mid_ranks() -> None:
    ranks = percentile_ranks(np.array([0.3, 0.1, 0.2, 0.2]))
    assert ranks.tolist() == [0.875, 0.125, 0.5, 0.5]


def test_gap_id_ignores_order_but_not_kind_or_evidence() -> None:
    assert gap_id(SPARSE_REGION, ["b", "a"]) == gap_id(SPARSE_REGION, ["a", "b"])
    assert gap_id(SPARSE_REGION, ["a", "b"]) != gap_id(BRIDGE, ["a", "b"])
    assert gap_id(COVERAGE, ["a"], ["x", "y"]) == gap_id(COVERAGE, ["a"], ["y", "x"])
    assert gap_id(COVERAGE, ["a"], ["x"]) != gap_id(COVERAGE, ["a"], ["y"])
    assert re.fullmatch(r"[0-9a-f]{16}", gap_id(SPARSE_REGION, ["a"]))


# --- sparse regions -----------------------------------------------------------------------------


def test_sparse_gaps_land_in_the_thin_cloud_not_on_junk(planted: PlantedMap) -> None:
    config = _only(SPARSE_REGION, max_gaps=10, total_budget=30)
    gaps = find_gaps(planted.semantic_map, planted.vectors, planted.clusters, config).gaps
    _check_invariants(gaps, planted.semantic_map, config)
    where = [{planted.groups[a] for a in anchors} for anchors in gaps["anchor_doc_ids"]]
    assert where, "no sparse gap found"
    assert all(JUNK not in groups for groups in where)
    assert where[0] == {THIN}
    assert sum(groups == {THIN} for groups in where) >= 2
    assert gaps["rationale"][0].startswith("sparse region near 'topicg")


def test_gaps_do_not_depend_on_row_order(planted: PlantedMap) -> None:
    sm, vectors = planted.semantic_map, planted.vectors
    reference = _validation_reference(sm, vectors)
    labels = {d: f"g{g}" for d, g in planted.groups.items()}
    config = GapsConfig(target_mix="uniform", max_gaps=12)
    found = find_gaps(sm, vectors, planted.clusters, config, reference=reference, labels=labels)
    perm = np.random.default_rng(3).permutation(sm.height)
    ref_perm = np.random.default_rng(4).permutation(len(reference.ids))
    shuffled = find_gaps(
        sm[perm],
        vectors[perm],
        planted.clusters.reverse(),
        config,
        reference=Reference([reference.ids[i] for i in ref_perm], reference.vectors[ref_perm]),
        labels=labels,
    )
    assert found.gaps.height > 0
    assert found.gaps.equals(shuffled.gaps)


def test_budget_smaller_than_gap_count_keeps_the_top_gaps(planted: PlantedMap) -> None:
    args = (planted.semantic_map, planted.vectors, planted.clusters)
    full = find_gaps(*args, _only(SPARSE_REGION, max_gaps=8, min_shortfall=0.0)).gaps
    small = find_gaps(*args, _only(SPARSE_REGION, max_gaps=8, min_shortfall=0.0, total_budget=2))
    assert full.height >= 3
    assert small.gaps["gap_id"].to_list() == full["gap_id"].head(2).to_list()
    assert small.gaps["budget"].to_list() == [1, 1]


def test_misaligned_vectors_are_refused(planted: PlantedMap) -> None:
    with pytest.raises(SchemaError, match="vectors has 10 rows"):
        find_gaps(planted.semantic_map, planted.vectors[:10], planted.clusters, GapsConfig())


def test_gap_points_are_the_mean_of_the_anchors(planted: PlantedMap) -> None:
    config = _only(SPARSE_REGION, max_gaps=4, min_shortfall=0.0)
    gaps = find_gaps(planted.semantic_map, planted.vectors, planted.clusters, config).gaps
    points = gap_points(gaps, planted.semantic_map)
    assert points.columns == ["x", "y", "rank", "kind", "score", "budget", "rationale"]
    assert points["rank"].to_list() == gaps["rank"].to_list()
    anchors = gaps["anchor_doc_ids"][1].to_list()
    rows = planted.semantic_map.filter(pl.col("doc_id").is_in(anchors))
    assert points["x"][1] == pytest.approx(rows["x"].cast(pl.Float64).mean())
    assert points["y"][1] == pytest.approx(rows["y"].cast(pl.Float64).mean())


# --- coverage against a reference ---------------------------------------------------------------


def test_coverage_finds_the_blob_the_corpus_lost(planted: PlantedMap) -> None:
    """Blob 2 keeps 4 of its train rows; the reference holds all of its points."""
    sm, vectors, groups = planted.semantic_map, planted.vectors, planted.groups
    ids = sm["doc_id"].to_list()
    blob2_train = [i for i, d in enumerate(ids) if groups[d] == 2 and sm["split"][i] == "train"]
    drop = set(blob2_train[4:])
    keep = np.array([i for i in range(len(ids)) if i not in drop])
    reference = Reference(ids, vectors)  # the full distribution, as a team's production sample
    config = _only(COVERAGE)
    found = find_gaps(sm[keep], vectors[keep], planted.clusters, config, reference=reference)
    gaps = found.gaps
    _check_invariants(gaps, sm[keep], config)
    top = gaps.row(0, named=True)
    assert top["kind"] == COVERAGE
    assert top["shortfall"] > 0.8
    evidence = [groups[d] for d in top["evidence_doc_ids"]]
    assert evidence.count(2) > len(evidence) / 2
    assert [groups[d] for d in top["anchor_doc_ids"]].count(2) >= 3
    assert "coverage gap near 'topicc" in top["rationale"]


def test_coverage_without_a_reference_is_a_note(planted: PlantedMap) -> None:
    found = find_gaps(planted.semantic_map, planted.vectors, planted.clusters, _only(COVERAGE))
    assert found.gaps.height == 0
    assert any("a reference of 0 documents" in n for n in found.notes)


def test_coverage_refuses_a_reference_of_another_width(planted: PlantedMap) -> None:
    ref = Reference(["a", "b", "c", "d"], np.eye(4, 8, dtype=np.float32))
    with pytest.raises(FactoryError, match="reference vectors are 8-d"):
        find_gaps(
            planted.semantic_map, planted.vectors, planted.clusters, _only(COVERAGE), reference=ref
        )


# --- bridges ------------------------------------------------------------------------------------


def _two_blobs(path_points: int) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """Two tight blobs 0.5 rad apart in 16-d, with `path_points` documents along the segment."""
    rng = np.random.default_rng(5)
    a = np.zeros(16)
    a[0] = 1.0
    b = np.zeros(16)
    b[0], b[1] = np.cos(0.5), np.sin(0.5)
    parts = [a + rng.normal(scale=0.02, size=(80, 16)), b + rng.normal(scale=0.02, size=(80, 16))]
    t = rng.uniform(0.2, 0.8, size=path_points)
    parts.append(
        np.outer(1 - t, a) + np.outer(t, b) + rng.normal(scale=0.02, size=(path_points, 16))
    )
    vectors = np.vstack(parts).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    labels = np.array([0] * 80 + [1] * 80 + [-1] * path_points)
    texts = [
        f"{'left' if g == 0 else 'right' if g == 1 else 'middle'} {i}" for i, g in enumerate(labels)
    ]
    ids = [content_hash(x) for x in texts]
    frame = hand_map(ids, ["train"] * len(ids), vectors, labels)
    clusters = clusters_frame(labels, np.ones(len(ids), bool), vectors, texts, 2)
    return frame, vectors, clusters


def test_an_empty_path_between_neighbours_is_a_bridge() -> None:
    sm, vectors, clusters = _two_blobs(path_points=0)
    config = _only(BRIDGE, bridge_reach=20.0)
    gaps = find_gaps(sm, vectors, clusters, config).gaps
    _check_invariants(gaps, sm, config)
    assert gaps.height == 1
    row = gaps.row(0, named=True)
    assert row["kind"] == BRIDGE
    assert row["observed"] == 0.0
    assert row["expected"] >= 1.0
    side = {d: c for d, c in zip(sm["doc_id"], sm["cluster_id"], strict=True)}
    assert {side[d] for d in row["anchor_doc_ids"]} == {0, 1}
    assert row["rationale"].startswith("bridge between 'left' and 'right'")
    target = np.asarray(row["target"])
    assert abs(float(target @ vectors[0]) - float(target @ vectors[100])) < 0.05  # midway


def test_a_populated_path_is_no_bridge_and_distant_topics_are_none() -> None:
    sm, vectors, clusters = _two_blobs(path_points=400)
    assert find_gaps(sm, vectors, clusters, _only(BRIDGE, bridge_reach=20.0)).gaps.height == 0
    sm, vectors, clusters = _two_blobs(path_points=0)
    assert find_gaps(sm, vectors, clusters, _only(BRIDGE, bridge_reach=0.5)).gaps.height == 0


# --- under-represented labels -------------------------------------------------------------------


def test_an_under_represented_label_is_short_of_the_uniform_mix(planted: PlantedMap) -> None:
    labels = {d: f"g{g}" for d, g in planted.groups.items() if g != JUNK}
    config = _only(UNDER_REPRESENTED, target_mix="uniform")
    found = find_gaps(
        planted.semantic_map, planted.vectors, planted.clusters, config, labels=labels
    )
    gaps = found.gaps
    _check_invariants(gaps, planted.semantic_map, config)
    assert gaps.height == 1  # the thin cloud of 40 against blobs of 100
    row = gaps.row(0, named=True)
    n_train = sum(
        1
        for d, s in zip(planted.semantic_map["doc_id"], planted.semantic_map["split"], strict=True)
        if s == "train" and d in labels
    )
    thin_train = sum(
        1
        for d, s in zip(planted.semantic_map["doc_id"], planted.semantic_map["split"], strict=True)
        if s == "train" and planted.groups[d] == THIN
    )
    assert row["observed"] == thin_train
    assert row["expected"] == pytest.approx(n_train / 7)
    assert {planted.groups[a] for a in row["anchor_doc_ids"]} == {THIN}
    assert row["rationale"].startswith(f"'g{THIN}' has {thin_train} train documents")


def test_a_declared_mix_notes_labels_train_lacks(planted: PlantedMap) -> None:
    labels = {d: f"g{g}" for d, g in planted.groups.items()}
    config = _only(UNDER_REPRESENTED, target_mix={"g0": 0.1, "g1": 0.6, "absent": 0.3})
    found = find_gaps(
        planted.semantic_map, planted.vectors, planted.clusters, config, labels=labels
    )
    assert any("'absent'" in n and "no train documents" in n for n in found.notes)
    assert found.gaps["rationale"].str.starts_with("'g1'").any()  # 60% of train expected
    assert not found.gaps["rationale"].str.starts_with("'g0'").any()


# --- student failures ---------------------------------------------------------------------------


def test_failures_clustered_in_one_blob_become_a_gap(planted: PlantedMap) -> None:
    sm, groups = planted.semantic_map, planted.groups
    held = sm.filter(pl.col("split") == "validation")["doc_id"].to_list()
    evaluation = pl.DataFrame({"doc_id": held, "correct": [groups[d] != 4 for d in held]})
    config = _only(STUDENT_FAILURE)
    found = find_gaps(sm, planted.vectors, planted.clusters, config, evaluation=evaluation)
    gaps = found.gaps
    _check_invariants(gaps, sm, config)
    assert gaps.height >= 1
    row = gaps.row(0, named=True)
    assert {groups[d] for d in row["evidence_doc_ids"]} == {4}
    assert [groups[d] for d in row["anchor_doc_ids"]].count(4) == len(row["anchor_doc_ids"])
    assert row["shortfall"] == 1.0
    assert row["rationale"].startswith("student fails")


def test_failures_from_the_test_split_are_refused(planted: PlantedMap) -> None:
    sm = planted.semantic_map.with_columns(
        pl.when(pl.col("split") == "validation")
        .then(pl.lit("test"))
        .otherwise(pl.col("split"))
        .alias("split")
    )
    held = sm.filter(pl.col("split") == "test")["doc_id"].to_list()
    evaluation = pl.DataFrame({"doc_id": held, "correct": [False] * len(held)})
    with pytest.raises(FactoryError, match="validation split only"):
        find_gaps(sm, planted.vectors, planted.clusters, GapsConfig(), evaluation=evaluation)


# --- all kinds together -------------------------------------------------------------------------


def test_all_kinds_rank_on_one_scale_with_disjoint_targets(planted: PlantedMap) -> None:
    sm, vectors, groups = planted.semantic_map, planted.vectors, planted.groups
    held = sm.filter(pl.col("split") == "validation")["doc_id"].to_list()
    evaluation = pl.DataFrame({"doc_id": held, "correct": [groups[d] != 4 for d in held]})
    config = GapsConfig(target_mix="uniform")
    found = find_gaps(
        sm,
        vectors,
        planted.clusters,
        config,
        reference=_validation_reference(sm, vectors),
        labels={d: f"g{g}" for d, g in groups.items() if g != JUNK},
        evaluation=evaluation,
    )
    _check_invariants(found.gaps, sm, config)
    assert set(found.proposed) == {
        COVERAGE,
        SPARSE_REGION,
        BRIDGE,
        UNDER_REPRESENTED,
        STUDENT_FAILURE,
    }
    assert STUDENT_FAILURE in set(found.gaps["kind"])
    assert found.gaps["kind"][0] == STUDENT_FAILURE  # shortfall 1.0 at weight 1.0 leads
    anchors = [groups[a] for row in found.gaps["anchor_doc_ids"] for a in row]
    assert JUNK not in anchors
    assert found.radius > 0


def _validation_reference(sm: pl.DataFrame, vectors: np.ndarray) -> Reference:
    rows = np.nonzero(sm["split"].to_numpy() == "validation")[0]
    return Reference([sm["doc_id"][int(i)] for i in rows], vectors[rows])


def test_dim_matches_the_planted_map() -> None:
    assert make_planted_map().vectors.shape[1] == DIM


def test_evaluation_with_nulls_or_repeats_is_refused(planted: PlantedMap) -> None:
    sm = planted.semantic_map
    held = sm.filter(pl.col("split") == "validation")["doc_id"].to_list()
    args = (sm, planted.vectors, planted.clusters, _only(STUDENT_FAILURE))
    nulls = pl.DataFrame({"doc_id": held[:3], "correct": [True, None, False]})
    with pytest.raises(FactoryError, match="1 null doc_id or correct values"):
        find_gaps(*args, evaluation=nulls)
    twice = pl.DataFrame({"doc_id": [held[0], held[0], held[1]], "correct": [True, False, True]})
    with pytest.raises(FactoryError, match="repeat 1 doc_ids"):
        find_gaps(*args, evaluation=twice)


def test_an_empty_reference_is_a_note_not_a_crash(planted: PlantedMap) -> None:
    sm = planted.semantic_map.with_columns(pl.lit("train").alias("split"))
    found = find_gaps(
        sm,
        planted.vectors,
        planted.clusters,
        GapsConfig(),
        reference=Reference([], np.zeros((0, DIM), dtype=np.float32)),
    )
    assert any("a reference of 0 documents" in n for n in found.notes)
    assert COVERAGE not in set(found.gaps["kind"])


def test_kind_weights_override_only_what_they_name() -> None:
    weights = GapsConfig(kind_weights={"bridge": 0.5}).kind_weights
    assert weights["bridge"] == 0.5
    assert weights["sparse_region"] == 0.8
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        GapsConfig(kind_weights={"bridge": 5.0})
