"""The interactive HTML map: offline, deterministic, hover texts, gaps and input checks."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from plotly.offline import get_plotlyjs

from factory.errors import BackendError, SchemaError
from factory.mapping.interactive import write_interactive_map


def _map(n_clusters: int = 3, per: int = 20, noise: int = 10) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(0)
    ids = [c for c in range(n_clusters) for _ in range(per)] + [-1] * noise
    n = len(ids)
    centres = rng.normal(scale=10.0, size=(n_clusters + 1, 2))
    xy = centres[np.array(ids)] + rng.normal(size=(n, 2))
    semantic_map = pl.DataFrame(
        {
            "doc_id": [f"d{i:04d}" for i in range(n)],
            "split": ["train" if i % 5 else "test" for i in range(n)],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "cluster_id": ids,
            "membership": np.ones(n),
            "density": np.full(n, 0.5),
        },
        schema_overrides={"x": pl.Float32, "y": pl.Float32, "cluster_id": pl.Int64},
    ).with_columns(pl.col("membership", "density").cast(pl.Float32))
    clusters = pl.DataFrame(
        {
            "cluster_id": list(range(n_clusters)),
            "size": [per] * n_clusters,
            "train_size": [per - per // 5] * n_clusters,
            "keywords": [[f"kw{c}", "topic"] for c in range(n_clusters)],
            "label": [f"label-{c} topic" for c in range(n_clusters)],
        },
        schema_overrides={"cluster_id": pl.Int64, "size": pl.Int64, "train_size": pl.Int64},
    )
    return semantic_map, clusters


def _texts(semantic_map: pl.DataFrame) -> dict[str, str]:
    return {d: f"text of {d} about <b>things</b> " + "word " * 80 for d in semantic_map["doc_id"]}


def _gaps(k: int = 2) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "x": [float(i) for i in range(k)],
            "y": [float(-i) for i in range(k)],
            "rank": list(range(1, k + 1)),
            "kind": ["sparse_region"] * k,
            "score": [0.9 - 0.1 * i for i in range(k)],
            "budget": [50] * k,
            "rationale": [f"gap rationale {i} " + "because few documents " * 8 for i in range(k)],
        },
        schema_overrides={"rank": pl.Int64, "budget": pl.Int64},
    )


def _figure(page: str) -> list[dict[str, Any]]:
    found = re.search(r'Plotly\.newPlot\(\s*"factory-map",\s*', page)
    assert found is not None
    traces, _ = json.JSONDecoder().raw_decode(page, found.end())
    return list(traces)


def test_writes_offline_html_with_labels_hover_and_gaps(tmp_path: Path) -> None:
    semantic_map, clusters = _map()
    path = write_interactive_map(
        semantic_map, clusters, _texts(semantic_map), _gaps(), tmp_path / "m" / "map.html", "demo"
    )
    page = path.read_text(encoding="utf-8")
    for c in range(3):
        assert f"label-{c} topic" in page
    assert "gap rationale 1" in page
    # The inlined plotly.js names CDN URLs only for geo/mapbox traces, which the map never uses.
    bundle = get_plotlyjs()
    assert bundle in page
    rest = page.replace(bundle, "")
    assert "cdn.plot.ly" not in rest
    assert "https://cdn" not in rest
    assert not re.search(r"<script[^>]+src=", page)
    assert "70 documents, 3 clusters, 14% noise" in page
    traces = _figure(page)
    names = [t["name"] for t in traces]
    assert names[0] == "noise"
    assert names[-1] == "gaps"
    assert all(t["type"] == "scatter" for t in traces)
    gap = traces[-1]
    assert gap["text"] == ["1", "2"]
    assert len(gap["hovertext"]) == 2
    assert "<br>" in gap["hovertext"][0]
    first = next(t for t in traces if t["name"].startswith("0: "))
    assert len(first["hovertext"]) == 20
    hover = first["hovertext"][1]
    assert hover.startswith("<b>cluster 0: label-0 topic</b><br>split: train<br>text of d0001")
    assert "about &lt;b&gt;things&lt;/b&gt; word" in hover
    assert hover.endswith("…")
    assert len(hover) < 400


def test_same_input_gives_same_bytes(tmp_path: Path) -> None:
    semantic_map, clusters = _map()
    texts = _texts(semantic_map)
    a = write_interactive_map(semantic_map, clusters, texts, _gaps(), tmp_path / "a.html", "t")
    b = write_interactive_map(semantic_map, clusters, texts, _gaps(), tmp_path / "b.html", "t")
    assert a.read_bytes() == b.read_bytes()


@pytest.mark.parametrize("gaps", [None, pl.DataFrame(), _gaps().clear()])
def test_no_gaps(tmp_path: Path, gaps: pl.DataFrame | None) -> None:
    semantic_map, clusters = _map()
    path = write_interactive_map(semantic_map, clusters, {}, gaps, tmp_path / "map.html", "t")
    assert "gaps" not in [t["name"] for t in _figure(path.read_text(encoding="utf-8"))]


def test_many_clusters_are_grouped_and_large_maps_use_webgl(tmp_path: Path) -> None:
    semantic_map, clusters = _map(n_clusters=60, per=100)
    path = write_interactive_map(semantic_map, clusters, {}, _gaps(3), tmp_path / "map.html", "big")
    traces = _figure(path.read_text(encoding="utf-8"))
    assert len(traces) == 1 + 30 + 1 + 1
    assert traces[-2]["name"] == "other clusters"
    assert len(traces[-2]["hovertext"]) == 30 * 100
    assert traces[-1]["name"] == "gaps"
    assert {t["type"] for t in traces} == {"scattergl"}


@pytest.mark.parametrize(
    ("frame", "column"), [("semantic_map", "cluster_id"), ("clusters", "label"), ("gaps", "rank")]
)
def test_missing_column_is_named(tmp_path: Path, frame: str, column: str) -> None:
    semantic_map, clusters = _map()
    frames = {"semantic_map": semantic_map, "clusters": clusters, "gaps": _gaps()}
    frames[frame] = frames[frame].drop(column)
    with pytest.raises(SchemaError, match=rf"missing columns \['{column}'\]"):
        write_interactive_map(
            frames["semantic_map"], frames["clusters"], {}, frames["gaps"], tmp_path / "m", "t"
        )


def test_missing_plotly_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    semantic_map, clusters = _map()
    with pytest.raises(BackendError, match=r"pip install 'factory-data\[map\]'"):
        write_interactive_map(semantic_map, clusters, {}, None, tmp_path / "map.html", "t")
