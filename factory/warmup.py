"""Compile the numba-heavy libraries once (at install time) so the first real run is not slow.

Run as `python -m factory.warmup`; numba caches the compiled code next to the packages.
"""

from __future__ import annotations

import time


def main() -> None:
    """Import and exercise fast_hdbscan and umap on a tiny random sample."""
    import numpy as np

    rng = np.random.default_rng(0)
    data = rng.normal(size=(300, 16)).astype(np.float32)
    start = time.perf_counter()
    import fast_hdbscan

    fast_hdbscan.HDBSCAN(min_cluster_size=10).fit(data)
    import umap

    umap.UMAP(n_components=5, n_neighbors=10, random_state=0).fit_transform(data)
    print(f"warmed numba caches (fast_hdbscan, umap) in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
