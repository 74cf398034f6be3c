"""A PNG of the semantic map: points by cluster, the biggest clusters named, gaps marked.

Example:
    >>> plot_map(res.semantic_map, res.clusters, None, Path("map.png"), "docs")  # doctest: +SKIP
    PosixPath('map.png')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["plot_map"]

_LABELLED = 12
_NOISE = "#d0d0d0"
_GAP_STYLE = {
    "coverage": ("X", "red"),
    "sparse_region": ("P", "darkorange"),
    "bridge": ("D", "purple"),
    "under_represented": ("s", "saddlebrown"),
    "student_failure": ("*", "black"),
}
"""Marker and colour of each gap kind on the picture."""


def plot_map(
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    gap_points: pl.DataFrame | None,
    path: Path,
    title: str,
) -> Path:
    """Write a 1200x900 PNG of the map to `path` and return it.

    Points are coloured by cluster (noise light grey), the 12 largest clusters are labelled at
    their 2-D median, and gaps (`gap_points` with columns x, y, rank and optionally kind) are
    marked with their rank, one marker and colour per kind (see the legend).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 9), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    n = semantic_map.height
    size = float(np.clip(12_000 / max(n, 1), 2.0, 24.0))
    x = semantic_map["x"].to_numpy()
    y = semantic_map["y"].to_numpy()
    labels = semantic_map["cluster_id"].to_numpy()
    noise = labels < 0
    ax.scatter(x[noise], y[noise], s=size, c=_NOISE, linewidths=0, label="noise")
    palette = _palette()
    ax.scatter(
        x[~noise],
        y[~noise],
        s=size,
        c=[palette[c % len(palette)] for c in labels[~noise]],
        linewidths=0,
        alpha=0.85,
    )
    biggest = clusters.sort(["size", "cluster_id"], descending=[True, False]).head(_LABELLED)
    for cid, label in zip(biggest["cluster_id"], biggest["label"], strict=True):
        member = labels == cid
        if not member.any():
            continue
        ax.annotate(
            _shorten(f"{cid}: {label}"),
            (float(np.median(x[member])), float(np.median(y[member]))),
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.6", "alpha": 0.8},
        )
    if gap_points is not None and gap_points.height:
        kinds = (
            gap_points["kind"].to_list()
            if "kind" in gap_points.columns
            else ["gap"] * gap_points.height
        )
        for kind in dict.fromkeys(kinds):
            rows = gap_points.filter(pl.Series([k == kind for k in kinds]))
            marker, colour = _GAP_STYLE.get(kind, ("X", "red"))
            ax.scatter(
                rows["x"].to_numpy(),
                rows["y"].to_numpy(),
                marker=marker,
                s=80,
                c=colour,
                edgecolors="white",
                linewidths=0.8,
                zorder=5,
                label=kind.replace("_", " "),
            )
        for gx, gy, rank in gap_points.select("x", "y", "rank").iter_rows():
            ax.annotate(
                str(rank),
                (gx, gy),
                xytext=(5, 5),
                textcoords="offset points",
                color="darkred",
                fontsize=8,
                fontweight="bold",
                zorder=6,
            )
    n_clusters = clusters.height
    noise_share = float(noise.mean()) if n else 0.0
    ax.set_title(f"{title}\n{n} documents, {n_clusters} clusters, {noise_share:.0%} noise")
    ax.set_xticks([])
    ax.set_yticks([])
    if noise.any() or (gap_points is not None and gap_points.height):
        ax.legend(loc="lower right", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _palette() -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    return [colormaps["tab20"](i) for i in range(20)] + [colormaps["tab20b"](i) for i in range(20)]


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
