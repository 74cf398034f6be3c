"""A round's gaps drawn on the semantic map: the PNG and the interactive page.

Example:
    >>> pictures = write_gap_pictures(gaps, smap, clusters, docs, home.plots, 2)  # doctest: +SKIP
    >>> pictures.png.name  # doctest: +SKIP
    'coverage_gaps_round2.png'
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from factory.gaps.points import gap_points
from factory.mapping.pictures import MapPictures, write_map_pictures

__all__ = ["gap_plot_stem", "write_gap_pictures"]


def gap_plot_stem(round_number: int) -> str:
    """File stem of a round's gap map under `HOME/plots` (round 1 keeps the plain name)."""
    return "coverage_gaps" if round_number == 1 else f"coverage_gaps_round{round_number}"


def write_gap_pictures(
    gaps: pl.DataFrame,
    semantic_map: pl.DataFrame,
    clusters: pl.DataFrame,
    documents: pl.DataFrame,
    folder: Path,
    round_number: int,
) -> MapPictures:
    """Write round `round_number`'s gaps, marked by rank and kind, as `gap_plot_stem` pictures."""
    return write_map_pictures(
        semantic_map,
        clusters,
        documents,
        gap_points(gaps, semantic_map),
        folder,
        gap_plot_stem(round_number),
        f"round {round_number}: {gaps.height} gaps by rank (marker by kind)",
        f"round {round_number}: {gaps.height} gaps",
    )
