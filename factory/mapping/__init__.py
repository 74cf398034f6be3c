"""The semantic map layer: reduction, clustering, density, keywords and the map picture.

Example:
    >>> from factory.config import MapConfig
    >>> result = build_map(doc_ids, splits, vectors, texts, MapConfig())  # doctest: +SKIP
    >>> plot_map(result.semantic_map, result.clusters, None, path, "my corpus")  # doctest: +SKIP
"""

from __future__ import annotations

from factory.mapping.build import SPLIT_NAMES, MapResult, build_map, clusters_frame
from factory.mapping.cluster import cluster_points, default_min_cluster_size, default_min_samples
from factory.mapping.density import EXACT_KNN_LIMIT, knn, knn_density, unit_rows
from factory.mapping.interactive import write_interactive_map
from factory.mapping.keywords import TOKEN_PATTERN, ctfidf_keywords, label_from_keywords
from factory.mapping.plot import plot_map
from factory.mapping.reduce import FIT_SAMPLE, SampledReducer, hashed_sample, pca

__all__ = [
    "EXACT_KNN_LIMIT",
    "FIT_SAMPLE",
    "SPLIT_NAMES",
    "TOKEN_PATTERN",
    "MapResult",
    "SampledReducer",
    "build_map",
    "cluster_points",
    "clusters_frame",
    "ctfidf_keywords",
    "default_min_cluster_size",
    "default_min_samples",
    "hashed_sample",
    "knn",
    "knn_density",
    "label_from_keywords",
    "pca",
    "plot_map",
    "unit_rows",
    "write_interactive_map",
]
