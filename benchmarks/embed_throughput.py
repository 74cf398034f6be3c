"""Throughput of the project's embedding step vs bare `SentenceTransformer.encode`.

Both run in this process on the same banking77 texts, model, device, batch size and threads, both
warmed up; repeats alternate between them and medians are compared. The project side is
`EmbeddingStore.embed_documents` on a fresh cache each repeat, so every text is really embedded.

    python benchmarks/embed_throughput.py [--n 5000] [--repeats 3] [--batch-size 64]

Last line: `embed_throughput ratio=R`, R = project docs/s / bare docs/s (target >= 0.95).
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def banking77_texts(n: int | None = None) -> list[str]:
    """The first `n` (default all) distinct texts of banking77 (train, then test)."""
    root = Path(os.environ.get("FACTORY_TEST_DATA", REPO.parent / "shared" / "data"))
    texts: list[str] = []
    for name in ("train.csv", "test.csv"):
        path = root / "banking77" / name
        if not path.is_file():
            sys.exit(f"banking77 not found at {path}: set FACTORY_TEST_DATA to the data folder")
        with path.open(encoding="utf-8", newline="") as fh:
            texts.extend(row["text"] for row in csv.DictReader(fh))
    unique = list(dict.fromkeys(texts))
    if n is None:
        return unique
    if len(unique) < n:
        sys.exit(f"--n {n} is more than the {len(unique)} distinct banking77 texts")
    return unique[:n]


def _add(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return a[0] + b[0], a[1] + b[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000, help="texts to embed (default 5000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each (default 3)")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per forward pass")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument(
        "--slices",
        type=int,
        default=1,
        help="interleave the two sides over this many slices of the texts (for a busy machine; "
        "the project side then also pays one cache lookup and append per slice); default 1",
    )
    args = parser.parse_args()

    import polars as pl
    import torch
    from sentence_transformers import SentenceTransformer

    from factory.embedding import EmbeddingStore, SentenceTransformerEmbedder
    from factory.hashing import content_hash
    from factory.models import default_embedder_path

    texts = banking77_texts(args.n)
    docs = pl.DataFrame(
        {"doc_id": [content_hash(t) for t in texts], "text": texts, "split": ["train"] * len(texts)}
    )
    project = SentenceTransformerEmbedder(device=args.device, batch_size=args.batch_size)
    device = project.resolved_device
    bare = SentenceTransformer(str(default_embedder_path()), device=device, local_files_only=True)
    if device.startswith("cuda"):
        bare.half()  # the project runs fp16 on a GPU; compare like with like

    slices = [
        (texts[j :: args.slices], docs.gather_every(args.slices, offset=j))
        for j in range(args.slices)
    ]

    def run_bare(part: list[str]) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        bare.encode(
            part,
            batch_size=args.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return time.perf_counter() - wall, time.process_time() - cpu

    def run_project(store: EmbeddingStore, part: pl.DataFrame) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        _, stats = store.embed_documents(part, project)
        seconds = time.perf_counter() - wall, time.process_time() - cpu
        assert stats.embedded == part.height, stats  # a fresh cache: everything is embedded
        return seconds

    bare_s: list[tuple[float, float]] = []
    project_s: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="embed_throughput-") as tmp:
        # Warm-up of both sides (model load, allocator, lancedb import) on a small slice.
        warm = texts[: min(512, len(texts))]
        bare.encode(warm, batch_size=args.batch_size, show_progress_bar=False)
        EmbeddingStore(Path(tmp) / "warm-up").embed_documents(docs.head(len(warm)), project)
        for i in range(args.repeats):
            store = EmbeddingStore(Path(tmp) / f"store-{i}")
            b = p = (0.0, 0.0)
            for j, (part_texts, part_docs) in enumerate(slices):
                # Alternate the order (ABBA...) so a drifting background load hits both alike.
                if (i + j) % 2 == 0:
                    b = _add(b, run_bare(part_texts))
                    p = _add(p, run_project(store, part_docs))
                else:
                    p = _add(p, run_project(store, part_docs))
                    b = _add(b, run_bare(part_texts))
            bare_s.append(b)
            project_s.append(p)
            print(
                f"repeat {i + 1}: bare {b[0]:.2f} s (cpu {b[1]:.2f} s), "
                f"project {p[0]:.2f} s (cpu {p[1]:.2f} s)",
                flush=True,
            )

    bare_wall = statistics.median(w for w, _ in bare_s)
    project_wall = statistics.median(w for w, _ in project_s)
    cpu_ratio = statistics.median(c for _, c in bare_s) / statistics.median(c for _, c in project_s)
    bare_rate = len(texts) / bare_wall
    project_rate = len(texts) / project_wall
    print(
        f"texts={len(texts)} device={device} precision={project.precision} "
        f"batch_size={args.batch_size} torch_threads={torch.get_num_threads()} "
        f"repeats={args.repeats} slices={args.slices}"
    )
    print(f"bare SentenceTransformer.encode: {bare_rate:,.0f} docs/s (median)")
    print(f"project EmbeddingStore.embed_documents: {project_rate:,.0f} docs/s (median)")
    print(f"cpu-time ratio (bare cpu s / project cpu s; less sensitive to load): {cpu_ratio:.3f}")
    print(f"embed_throughput ratio={project_rate / bare_rate:.3f}")


if __name__ == "__main__":
    main()
