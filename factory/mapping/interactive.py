"""An interactive HTML semantic map: hover shows each document, gaps are marked, works offline.

Example:
    >>> write_interactive_map(sm, clusters, texts, gaps, Path("map.html"), "docs")  # doctest: +SKIP
    PosixPath('map.html')
"""

from __future__ import annotations

import html
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from factory.errors import BackendError, SchemaError

__all__ = ["write_interactive_map"]

_DIV_ID = "factory-map"
_GL_ABOVE = 5_000
_LABELLED = 12
_MAX_TRACES = 40
_OWN_TRACES = 30
_NOISE = "#d0d0d0"
_TEXT_CHARS = 200
_WRAP = 80
_MAP_COLUMNS = ("doc_id", "split", "x", "y", "cluster_id")
_CLUSTER_COLUMNS = ("cluster_id", "size", "label")
_GAP_COLUMNS = ("x", "y", "rank", "kind", "score", "budget", "rationale")
_LABEL_STYLE = {"showarrow": False, "font": {"size": 11}, "bgcolor": "rgba(255,255,255,0.8)"}


def write_interactive_map(
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    texts: dict[str, str],
    gap_points: pl.DataFrame | None,
    path: Path,
    title: str,
) -> Path:
    """Write a self-contained HTML map (plotly.js inlined) to `path` and return it.

    One trace per cluster (above 40 clusters, the 30 largest and one "other clusters"), noise in
    light grey; hover shows cluster id and label, split and the first ~200 characters of the
    text. The 12 largest clusters are labelled at their 2-D median; gaps are red X markers with
    their rank. WebGL above 5,000 points. The same input gives the same bytes.
    """
    _require(semantic_map, _MAP_COLUMNS, "semantic_map")
    _require(clusters, _CLUSTER_COLUMNS, "clusters")
    gaps = gap_points if gap_points is not None and gap_points.height else None
    if gaps is not None:
        _require(gaps, _GAP_COLUMNS, "gap_points")
    try:
        import plotly.graph_objects as go
        from plotly.colors import qualitative
    except ImportError as exc:
        msg = "plotly is not installed; run `pip install 'factory-data[map]'`"
        raise BackendError(msg) from exc

    n = semantic_map.height
    scatter = go.Scattergl if n > _GL_ABOVE else go.Scatter
    size = float(np.clip(240 / np.sqrt(max(n, 1)), 3.0, 10.0))
    x = semantic_map["x"].to_numpy().astype(np.float32)
    y = semantic_map["y"].to_numpy().astype(np.float32)
    labels = semantic_map["cluster_id"].to_numpy()
    names = {c: lab or "" for c, lab in clusters.select("cluster_id", "label").iter_rows()}
    hover = np.array(
        [
            _hover(cid, names.get(cid, ""), split, texts.get(doc_id, ""))
            for doc_id, split, cid in zip(
                semantic_map["doc_id"], semantic_map["split"], labels.tolist(), strict=True
            )
        ],
        dtype=object,
    )

    traces: list[Any] = []
    noise = labels < 0
    if noise.any():
        marker = {"size": size, "color": _NOISE}
        traces.append(_points(scatter, "noise", x, y, hover, noise, marker))
    order = clusters.sort(["size", "cluster_id"], descending=[True, False])["cluster_id"].to_list()
    present = set(np.unique(labels[~noise]).tolist())
    ranked = [c for c in order if c in present] + sorted(present - set(order))
    palette = list(qualitative.Dark24) + list(qualitative.Light24)
    colour = {cid: palette[i % len(palette)] for i, cid in enumerate(ranked)}
    own = ranked if len(ranked) <= _MAX_TRACES else ranked[:_OWN_TRACES]
    for cid in own:
        name = html.escape(_shorten(f"{cid}: {names.get(cid, '')}"))
        marker = {"size": size, "color": colour[cid], "opacity": 0.85}
        traces.append(_points(scatter, name, x, y, hover, labels == cid, marker))
    rest = ranked[len(own) :]
    if rest:
        member = np.isin(labels, rest)
        colours = [colour[c] for c in labels[member].tolist()]
        marker = {"size": size, "color": colours, "opacity": 0.85}
        traces.append(_points(scatter, "other clusters", x, y, hover, member, marker))
    if gaps is not None:
        traces.append(_gaps(scatter, gaps))  # same renderer as the points, so drawn on top

    annotations = [
        {
            "x": float(np.median(x[labels == cid])),
            "y": float(np.median(y[labels == cid])),
            "text": html.escape(_shorten(f"{cid}: {names.get(cid, '')}")),
            **_LABEL_STYLE,
        }
        for cid in ranked[:_LABELLED]
    ]
    noise_share = float(noise.mean()) if n else 0.0
    subtitle = f"{n} documents, {clusters.height} clusters, {noise_share:.0%} noise"
    axis = {"showticklabels": False, "showgrid": False, "zeroline": False}
    fig = go.Figure(
        data=traces,
        layout={
            "title": {"text": f"{html.escape(title)}<br><sup>{subtitle}</sup>"},
            "template": "plotly_white",
            "height": 850,
            "hovermode": "closest",
            "legend": {"itemsizing": "constant", "title": {"text": "clusters"}},
            "annotations": annotations,
            "xaxis": axis,
            "yaxis": axis,
        },
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(
        path,
        include_plotlyjs=True,
        full_html=True,
        div_id=_DIV_ID,
        config={"displaylogo": False, "responsive": True},
    )
    return path


def _require(df: pl.DataFrame, columns: tuple[str, ...], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        msg = f"{name} is missing columns {missing}; it has {df.columns}, needs {list(columns)}"
        raise SchemaError(msg)


def _points(
    scatter: Any,
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    hover: np.ndarray,
    member: np.ndarray,
    marker: dict[str, Any],
) -> Any:
    return scatter(
        x=x[member],
        y=y[member],
        mode="markers",
        name=name,
        marker=marker,
        hovertext=hover[member].tolist(),
        hoverinfo="text",
    )


def _gaps(scatter: Any, gap_points: pl.DataFrame) -> Any:
    rows = gap_points.select(_GAP_COLUMNS).sort("rank").rows(named=True)
    hover = [
        f"<b>gap {r['rank']}</b> ({html.escape(str(r['kind']))})<br>"
        f"score {r['score']:.3f}, budget {r['budget']}<br>{_wrap(str(r['rationale']))}"
        for r in rows
    ]
    return scatter(
        x=[float(r["x"]) for r in rows],
        y=[float(r["y"]) for r in rows],
        mode="markers+text",
        name="gaps",
        text=[str(r["rank"]) for r in rows],
        textposition="top right",
        textfont={"color": "darkred", "size": 12},
        marker={"symbol": "x", "size": 16, "color": "red", "line": {"color": "white", "width": 1}},
        hovertext=hover,
        hoverinfo="text",
    )


def _hover(cid: int, label: str, split: str, text: str) -> str:
    head = "noise (cluster -1)" if cid < 0 else f"cluster {cid}: {html.escape(label)}"
    return f"<b>{head}</b><br>split: {html.escape(split)}<br>{_wrap(_shorten(text, _TEXT_CHARS))}"


def _wrap(text: str) -> str:
    return "<br>".join(html.escape(line) for line in textwrap.wrap(text, _WRAP))


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
