"""The two pictures of a map: a PNG (for reports and the UI) and an interactive HTML page.

Example:
    >>> pictures = write_map_pictures(res.semantic_map, res.clusters, docs, None,  # doctest: +SKIP
    ...     home.plots, "semantic_map", "docs")
    >>> pictures.png.name, pictures.html.name  # doctest: +SKIP
    ('semantic_map.png', 'semantic_map.html')
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from factory.mapping.interactive import write_interactive_map
from factory.mapping.plot import plot_map

__all__ = ["MapPictures", "write_map_pictures"]


@dataclass(frozen=True)
class MapPictures:
    """Where the map's PNG and interactive HTML were written."""

    png: Path
    html: Path


def write_map_pictures(
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    documents: pl.DataFrame,
    gap_points: pl.DataFrame | None,
    folder: Path,
    stem: str,
    title: str,
    html_title: str | None = None,
) -> MapPictures:
    """Write `<folder>/<stem>.png` and `<stem>.html` (hover texts from `documents`' doc_id and
    text); the page is titled `html_title`, else `title`."""
    png = plot_map(semantic_map, clusters, gap_points, folder / f"{stem}.png", title)
    texts = dict(zip(documents["doc_id"].to_list(), documents["text"].to_list(), strict=True))
    html = write_interactive_map(
        semantic_map, clusters, texts, gap_points, folder / f"{stem}.html", html_title or title
    )
    return MapPictures(png, html)
