"""The semantic map layer: reduction, clustering, density, keywords and the map pictures.

Example:
    >>> from factory.config import MapConfig
    >>> result = build_map(doc_ids, splits, vectors, texts, MapConfig())  # doctest: +SKIP
    >>> plot_map(result.semantic_map, result.clusters, None, path, "my corpus")  # doctest: +SKIP
"""

from __future__ import annotations

from factory.mapping.build import MapResult, build_map, build_map_from_tables, clusters_frame
from factory.mapping.interactive import write_interactive_map
from factory.mapping.pictures import MapPictures, write_map_pictures
from factory.mapping.plot import plot_map

__all__ = [
    "MapPictures",
    "MapResult",
    "build_map",
    "build_map_from_tables",
    "clusters_frame",
    "plot_map",
    "write_interactive_map",
    "write_map_pictures",
]
