"""Wall time of the project's map + gaps vs BERTopic's default clustering path, same vectors.

The vectors are generated stand-ins (allowed for scale benchmarks): `--n` unit rows, float32,
384-d, drawn from 50 Gaussian clusters of uneven size and spread with a fixed seed. Texts are
short generated strings ("topic 12 doc 345"), doc_ids their content hashes, splits from
`factory.corpus.splits.assign_split` with the default `SplitConfig`.

- project: `factory.mapping.build_map(...)` then `factory.gaps.find_gaps(...)` with
  `MapConfig()` / `GapsConfig()` defaults and the validation split as the coverage reference:
  PCA 50, UMAP 5-d and 2-d and HDBSCAN fitted on a hashed sample of 5,000 documents (the rest
  placed and labelled from their nearest sampled neighbours), the train k-NN lists (faiss IVF
  above 20,000 train rows) with density, c-TF-IDF keywords, and all gap kinds that have inputs
  (coverage, sparse regions, bridges).
- BERTopic's default path, reproduced with the libraries BERTopic uses by default (BERTopic
  itself is not installed and is not needed): `umap.UMAP(n_neighbors=15, n_components=5,
  min_dist=0.0, metric="cosine", low_memory=False, random_state=42)` then the classic
  `hdbscan.HDBSCAN(min_cluster_size=10, metric="euclidean", cluster_selection_method="eom",
  prediction_data=True)`. It stops at the clusters (no 2-D view, no density, no gaps), so it does
  less work than the project side.

Both sides run in this process with the same thread settings: none are set, each library keeps
its defaults (numba's thread count is printed). Note that `random_state` makes UMAP run
single-threaded on both sides. Both are warmed first (numba JIT, imports) on a `--warm-n`
sample (default 6000: UMAP switches from exact neighbours to NN-descent above 4096 rows, so a
smaller sample leaves that JIT inside the timed run); the project warm-up fits on 3/4 of the
sample so that its sampled path (placement, label propagation) runs too. Then each repeat times
both sides, alternating which goes first; medians of `--repeats` (default 3) are reported.

    python benchmarks/map_scale.py [--n 100000] [--repeats 3] [--warm-n 6000]

Last line: `map_scale seconds=S ratio_vs_bertopic=R`, S = the project's median map + gaps wall
seconds, R = BERTopic-path seconds / project seconds (higher = project faster).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DIM = 384
N_TOPICS = 50
SEED = 42


def make_corpus(n: int, seed: int = SEED) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Doc ids, splits, texts and unit vectors, shape (n, 384) float32, from 50 Gaussian topics."""
    from factory.config import SplitConfig
    from factory.corpus.splits import assign_split
    from factory.hashing import content_hash

    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((N_TOPICS, DIM))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    sizes = rng.multinomial(n, rng.dirichlet(np.full(N_TOPICS, 2.0)))
    spread = rng.uniform(0.03, 0.07, N_TOPICS)  # per-dimension noise; norm about 0.6-1.4
    topic = np.repeat(np.arange(N_TOPICS), sizes)
    vectors = centers[topic] + rng.standard_normal((n, DIM)) * spread[topic, None]
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    texts = [f"topic {t} doc {i}" for i, t in enumerate(topic.tolist())]
    ids = [content_hash(t) for t in texts]
    split_config = SplitConfig()
    splits = [assign_split(d, split_config) for d in ids]
    return ids, splits, texts, vectors


def run_project(
    corpus: tuple[list[str], list[str], list[str], np.ndarray], fit_sample: int | None = None
) -> dict[str, Any]:
    """Time `build_map` + `find_gaps` (validation split as reference); seconds, counts, steps."""
    from factory.config import GapsConfig, MapConfig
    from factory.gaps import Reference, find_gaps
    from factory.mapping import build_map

    ids, splits, texts, vectors = corpus
    map_config = MapConfig() if fit_sample is None else MapConfig(fit_sample=fit_sample)
    start = time.perf_counter()
    result = build_map(ids, splits, vectors, texts, map_config)
    mapped = time.perf_counter()
    sm = result.semantic_map
    held = np.nonzero(sm["split"].to_numpy() == "validation")[0]
    reference = Reference([sm["doc_id"][int(i)] for i in held], result.vectors[held])
    found = find_gaps(sm, result.vectors, result.clusters, GapsConfig(), reference=reference)
    stop = time.perf_counter()
    steps = {k: v for k, v in result.timings.items() if k != "total"}
    steps["gaps"] = stop - mapped
    return {
        "seconds": stop - start,
        "clusters": result.clusters.height,
        "noise": result.noise_share,
        "gaps": found.gaps.height,
        "steps": steps,
    }


def run_bertopic_path(vectors: np.ndarray) -> dict[str, Any]:
    """Time BERTopic's default UMAP (5-d cosine) + classic HDBSCAN (eom); seconds and counts."""
    with warnings.catch_warnings():  # umap's "n_jobs overridden by random_state" and friends
        warnings.simplefilter("ignore")
        import hdbscan
        import umap

        start = time.perf_counter()
        reduced = umap.UMAP(
            n_neighbors=15,
            n_components=5,
            min_dist=0.0,
            metric="cosine",
            low_memory=False,
            random_state=42,
        ).fit_transform(vectors)
        reduced_at = time.perf_counter()
        model = hdbscan.HDBSCAN(
            min_cluster_size=10,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
        ).fit(reduced)
        stop = time.perf_counter()
    labels = np.asarray(model.labels_)
    return {
        "seconds": stop - start,
        "clusters": len({int(c) for c in labels if c >= 0}),
        "noise": float((labels < 0).mean()),
        "steps": {"umap": reduced_at - start, "hdbscan": stop - reduced_at},
    }


def _steps(steps: dict[str, float]) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in steps.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="vectors (default 100000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each (default 3)")
    parser.add_argument(
        "--warm-n", type=int, default=6000, help="warm-up sample (default 6000; > 5500 needed)"
    )
    args = parser.parse_args()
    if args.n < 100 or args.warm_n < 100:
        sys.exit(f"--n ({args.n}) and --warm-n ({args.warm_n}) must be at least 100")

    import numba

    t0 = time.perf_counter()
    warm = make_corpus(args.warm_n, seed=SEED + 1)
    run_project(warm, fit_sample=args.warm_n * 3 // 4)  # exercises the placement path too
    run_bertopic_path(warm[3])
    print(f"warm-up on {args.warm_n} vectors: {time.perf_counter() - t0:.1f} s", flush=True)

    corpus = make_corpus(args.n)
    project_s: list[float] = []
    bertopic_s: list[float] = []
    project: dict[str, Any] = {}
    bertopic: dict[str, Any] = {}
    for i in range(args.repeats):
        for side in ("project", "bertopic") if i % 2 == 0 else ("bertopic", "project"):
            gc.collect()
            if side == "project":
                project = run_project(corpus)
                project_s.append(project["seconds"])
                print(
                    f"repeat {i + 1}: project {project['seconds']:.2f} s "
                    f"({_steps(project['steps'])})",
                    flush=True,
                )
            else:
                bertopic = run_bertopic_path(corpus[3])
                bertopic_s.append(bertopic["seconds"])
                print(
                    f"repeat {i + 1}: bertopic path {bertopic['seconds']:.2f} s "
                    f"({_steps(bertopic['steps'])})",
                    flush=True,
                )

    p_med = statistics.median(project_s)
    b_med = statistics.median(bertopic_s)
    n_train = sum(s == "train" for s in corpus[1])
    print(
        f"n={args.n} train={n_train} dim={DIM} topics={N_TOPICS} repeats={args.repeats} "
        f"numba_threads={numba.get_num_threads()} (thread settings left at library defaults)"
    )
    print(
        f"project map+gaps: {p_med:.2f} s (median), clusters={project['clusters']} "
        f"noise={project['noise']:.3f} gaps={project['gaps']}"
    )
    print(
        f"bertopic default path (umap 5-d cosine + hdbscan eom): {b_med:.2f} s (median), "
        f"clusters={bertopic['clusters']} noise={bertopic['noise']:.3f}"
    )
    print(f"map_scale seconds={p_med:.2f} ratio_vs_bertopic={b_med / p_med:.3f}")


if __name__ == "__main__":
    main()
