"""The semantic map: exact k-NN, keywords, and build_map on a planted corpus."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

from factory.config import MapConfig
from factory.errors import FactoryError, SchemaError
from factory.mapping import MapResult, build_map, plot_map
from factory.mapping.cluster import default_min_cluster_size, default_min_samples
from factory.mapping.density import knn, knn_density
from factory.mapping.keywords import ctfidf_keywords, label_from_keywords
from factory.mapping.reduce import hashed_sample
from factory.schemas import CLUSTERS, SEMANTIC_MAP
from tests.fixtures.planted_map import BLOB_WORDS, JUNK, THIN, Planted


def _unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    v = rng.normal(size=(n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def _by_doc_id(planted: Planted) -> np.ndarray:
    """True groups in doc_id order (the order of build_map's output)."""
    order = sorted(range(len(planted.doc_ids)), key=planted.doc_ids.__getitem__)
    return planted.groups[order]


# --- pieces -------------------------------------------------------------------------------------


def test_knn_matches_brute_force_and_excludes_self() -> None:
    rng = np.random.default_rng(1)
    base = _unit(rng, 300, 16)
    sims, idx = knn(base, base, k=5, self_index=np.arange(300))
    full = base @ base.T
    np.fill_diagonal(full, -np.inf)
    expected = np.argsort(-full, axis=1, kind="stable")[:, :5]
    assert (idx == expected).all()
    assert np.allclose(sims, np.take_along_axis(full, expected, axis=1), atol=1e-6)
    assert not (idx == np.arange(300)[:, None]).any()


def test_knn_refuses_more_neighbours_than_rows() -> None:
    base = _unit(np.random.default_rng(0), 4, 8)
    with pytest.raises(FactoryError, match="k=4 neighbours"):
        knn(base, base, k=4, self_index=np.arange(4))


def test_density_uses_train_rows_only() -> None:
    rng = np.random.default_rng(2)
    vectors = _unit(rng, 50, 8)
    is_train = np.arange(50) % 2 == 0
    density = knn_density(vectors, is_train, k=3)
    sims = vectors @ vectors[is_train].T
    sims[np.nonzero(is_train)[0], np.arange(25)] = -np.inf  # a train row is not its own neighbour
    expected = np.sort(sims, axis=1)[:, ::-1][:, :3].mean(axis=1)
    assert np.allclose(density, expected, atol=1e-6)


def test_ctfidf_prefers_words_distinctive_of_a_class() -> None:
    texts = [
        "my card has not arrived, card delivery is slow",
        "the card arrival takes a week",
        "how do I top up with a transfer",
        "top up failed, transfer the money again",
        "the 2nd ok id xx",
    ]
    keywords = ctfidf_keywords(texts, [0, 0, 1, 1, 2], top_n=3)
    assert keywords[0][0] == "card"
    assert "transfer" in keywords[1]
    assert "card" not in keywords[1]
    assert keywords[2] == []  # only stop words, digits and short tokens
    assert label_from_keywords(keywords[0], 0).startswith("card / ")
    assert label_from_keywords([], 7) == "cluster 7"


def test_contraction_stems_are_not_keywords() -> None:
    keywords = ctfidf_keywords(["it hasn't arrived", "I haven't paid"], [0, 1], top_n=5)
    assert keywords == {0: ["arrived"], 1: ["paid"]}


def test_default_cluster_sizes_scale_with_the_corpus() -> None:
    assert default_min_cluster_size(100) == 5
    assert default_min_cluster_size(3_000) == 30
    assert default_min_cluster_size(1_000_000) == 200
    assert default_min_samples(30) == 15
    assert default_min_samples(2) == 1


def test_hashed_sample_is_order_free_and_sized() -> None:
    ids = [f"doc-{i}" for i in range(100)]
    picked = {ids[i] for i in hashed_sample(ids, 30, random_state=3)}
    shuffled = ids[::-1]
    assert {shuffled[i] for i in hashed_sample(shuffled, 30, random_state=3)} == picked
    assert len(picked) == 30
    assert {ids[i] for i in hashed_sample(ids, 30, random_state=4)} != picked


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ("short_splits", SchemaError, "one entry per document"),
        ("duplicate_id", SchemaError, "must be unique"),
        ("bad_split", SchemaError, "unknown split values \\['dev'\\]"),
        ("tiny", FactoryError, "at least 10 documents"),
    ],
)
def test_build_map_rejects_bad_inputs(change: str, error: type[Exception], match: str) -> None:
    n = 12
    ids = [f"d{i:02d}" for i in range(n)]
    splits = ["train"] * n
    vectors = _unit(np.random.default_rng(0), n, 8)
    texts = ["text"] * n
    if change == "short_splits":
        splits = splits[:-1]
    elif change == "duplicate_id":
        ids[1] = ids[0]
    elif change == "bad_split":
        splits[3] = "dev"
    else:
        ids, splits, vectors, texts = ids[:5], splits[:5], vectors[:5], texts[:5]
    with pytest.raises(error, match=match):
        build_map(ids, splits, vectors, texts, MapConfig())


# --- build_map on the planted corpus ------------------------------------------------------------


def test_map_tables_match_their_schemas(planted_map: MapResult, planted: Planted) -> None:
    sm, clusters = planted_map.semantic_map, planted_map.clusters
    assert SEMANTIC_MAP.validate(sm).columns == SEMANTIC_MAP.column_names
    assert CLUSTERS.validate(clusters).columns == CLUSTERS.column_names
    assert sm.height == len(planted.doc_ids)
    assert sm["doc_id"].to_list() == sorted(planted.doc_ids)
    assert sm["membership"].min() >= 0.0
    assert sm["membership"].max() <= 1.0
    assert (sm.filter(pl.col("cluster_id") == -1)["membership"] == 0).all()
    centroids = np.asarray(clusters["centroid"].to_list(), dtype=np.float32)
    assert np.allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-5)
    sizes = sm.filter(pl.col("cluster_id") >= 0).group_by("cluster_id").len().sort("cluster_id")
    assert sizes["len"].to_list() == clusters["size"].to_list()
    assert clusters["size"].to_list() == sorted(clusters["size"].to_list(), reverse=True)
    assert 0.0 <= planted_map.noise_share < 0.2
    assert set(planted_map.timings) >= {"reduce", "hdbscan", "density", "keywords", "total"}
    depth = sm["neighbour_rows"].list.len()
    assert (depth == 30).all()
    rows, sims = sm["neighbour_rows"][0].to_list(), sm["neighbour_sims"][0].to_list()
    assert sims == sorted(sims, reverse=True)
    assert all(sm["split"][r] == "train" and r != 0 for r in rows)
    unit = planted_map.vectors
    assert np.allclose([float(unit[0] @ unit[r]) for r in rows], sims, atol=1e-5)
    assert sm["density"][0] == pytest.approx(float(np.mean(sims[:10])), abs=1e-5)
    assert planted_map.vectors.shape == (sm.height, 32)
    assert planted_map.reduced.shape == (sm.height, MapConfig().n_components)


def test_map_finds_the_planted_blobs(planted_map: MapResult, planted: Planted) -> None:
    groups = _by_doc_id(planted)
    labels = planted_map.semantic_map["cluster_id"].to_numpy()
    majority = []
    for blob in range(6):
        found = labels[groups == blob]
        top = int(np.bincount(found[found >= 0]).argmax())
        assert (found == top).mean() >= 0.95, f"blob {blob} is split: {np.unique(found)}"
        majority.append(top)
    assert len(set(majority)) == 6  # no two blobs share a cluster
    clusters = planted_map.clusters
    label_of = dict(zip(clusters["cluster_id"], clusters["keywords"], strict=True))
    for blob, cid in enumerate(majority):
        assert label_of[cid][0] == BLOB_WORDS[blob]


def test_density_is_low_in_the_thin_cloud_and_lowest_on_junk(
    planted_map: MapResult, planted: Planted
) -> None:
    groups = _by_doc_id(planted)
    density = planted_map.semantic_map["density"].to_numpy()
    blobs = density[groups < THIN]
    assert np.median(density[groups == THIN]) < np.percentile(blobs, 1)
    assert density[groups == JUNK].max() < density[groups == THIN].min()


def _shuffled_map(planted: Planted, config: MapConfig, seed: int) -> MapResult:
    perm = np.random.default_rng(seed).permutation(len(planted.doc_ids))
    return build_map(
        [planted.doc_ids[i] for i in perm],
        [planted.splits[i] for i in perm],
        planted.vectors[perm],
        [planted.texts[i] for i in perm],
        config,
    )


def test_map_does_not_depend_on_input_order(planted_map: MapResult, planted: Planted) -> None:
    shuffled = _shuffled_map(planted, MapConfig(), seed=7)
    a, b = planted_map.semantic_map, shuffled.semantic_map
    assert adjusted_rand_score(a["cluster_id"], b["cluster_id"]) == 1.0
    assert a.equals(b)
    assert planted_map.clusters.equals(shuffled.clusters)


def test_large_corpus_path_fits_on_a_sample_and_places_the_rest(planted: Planted) -> None:
    calls: list[tuple[int, int]] = []
    result = build_map(
        planted.doc_ids,
        planted.splits,
        planted.vectors,
        planted.texts,
        MapConfig(fit_sample=400),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert result.params["fit_sample"] == 400
    assert calls[-1] == (4, 4)
    assert [c[0] for c in calls] == list(range(1, 5))
    groups = _by_doc_id(planted)
    labels = result.semantic_map["cluster_id"].to_numpy()
    for blob in range(6):
        found = labels[groups == blob]
        assert (found == np.bincount(found[found >= 0]).argmax()).mean() >= 0.9
    assert (labels[groups == JUNK] == -1).mean() >= 0.5


def test_sampled_map_does_not_depend_on_input_order(planted: Planted) -> None:
    config = MapConfig(fit_sample=400)
    args = (planted.doc_ids, planted.splits, planted.vectors, planted.texts)
    first = build_map(*args, config)
    shuffled = _shuffled_map(planted, config, seed=11)
    a, b = first.semantic_map, shuffled.semantic_map
    assert adjusted_rand_score(a["cluster_id"], b["cluster_id"]) == 1.0
    assert a.equals(b)


def test_classic_hdbscan_is_selectable(planted: Planted, planted_map: MapResult) -> None:
    classic = build_map(
        planted.doc_ids,
        planted.splits,
        planted.vectors,
        planted.texts,
        MapConfig(clusterer="hdbscan"),
    )
    assert classic.params["clusterer"] == "hdbscan"
    a = planted_map.semantic_map["cluster_id"].to_numpy()
    b = classic.semantic_map["cluster_id"].to_numpy()
    assert adjusted_rand_score(a, b) > 0.9


def test_plot_map_writes_a_png(planted_map: MapResult, tmp_path: Path) -> None:
    gaps = pl.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "rank": [1, 2]})
    path = plot_map(
        planted_map.semantic_map, planted_map.clusters, gaps, tmp_path / "out" / "map.png", "t"
    )
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    assert len(data) > 20_000
