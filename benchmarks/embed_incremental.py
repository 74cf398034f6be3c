"""Cost of re-embedding a corpus after 1% new documents, relative to embedding it all.

Builds N documents from banking77 texts (each text, then variants with a deterministic suffix),
embeds them all into a fresh `EmbeddingStore` (the full run), then, for each repeat, adds a new 1%
and embeds the whole corpus again: only the new documents are embedded, the rest come from the
LanceDB cache. Real model (all-MiniLM-L6-v2), real data; medians over repeats.

    python benchmarks/embed_incremental.py [--n 50000] [--repeats 3] [--new 0.01]

Last line: `embed_incremental fraction=F`, F = incremental seconds / full seconds (target <= 0.05).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO))

from embed_throughput import banking77_texts  # noqa: E402


def corpus(base: list[str], n: int, round_offset: int = 0) -> list[str]:
    """`n` distinct texts: banking77 texts, then the same with a deterministic suffix per round."""
    out = []
    for i in range(n):
        round_ = i // len(base) + round_offset
        text = base[i % len(base)]
        out.append(text if round_ == 0 else f"{text} (ref {round_:03d}-{i % 997:03d})")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="documents (default 50,000)")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each run (default 3)")
    parser.add_argument("--new", type=float, default=0.01, help="share of new docs (default 1%%)")
    parser.add_argument("--batch-size", type=int, default=64, help="texts per forward pass")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    args = parser.parse_args()

    import polars as pl
    import torch

    from factory.embedding import EmbeddingStore, SentenceTransformerEmbedder
    from factory.hashing import content_hash

    def frame(texts: list[str]) -> pl.DataFrame:
        ids = [content_hash(t) for t in texts]
        return pl.DataFrame({"doc_id": ids, "text": texts, "split": ["train"] * len(texts)})

    base = banking77_texts()
    docs = frame(corpus(base, args.n))
    n_new = max(1, round(args.n * args.new))
    embedder = SentenceTransformerEmbedder(device=args.device, batch_size=args.batch_size)

    full_s: list[float] = []
    inc_s: list[float] = []
    with tempfile.TemporaryDirectory(prefix="embed_incremental-") as tmp:
        # Warm-up: model load, fingerprint, lancedb import.
        EmbeddingStore(Path(tmp) / "warm-up").embed_documents(docs.head(256), embedder)
        for r in range(args.repeats):
            store = EmbeddingStore(Path(tmp) / f"store-{r}")
            start = time.perf_counter()
            _, stats = store.embed_documents(docs, embedder)
            full_s.append(time.perf_counter() - start)
            assert stats.embedded == docs.height, stats
            print(f"full {r + 1}: {docs.height} embedded in {full_s[-1]:.2f} s")
        for r in range(args.repeats):
            # A fresh 1% each repeat, on top of the fully cached corpus.
            new = frame([f"{t} [new batch {r}]" for t in corpus(base, n_new, round_offset=50)])
            grown = pl.concat([docs, new])
            start = time.perf_counter()
            table, stats = store.embed_documents(grown, embedder)
            inc_s.append(time.perf_counter() - start)
            assert (stats.cached, stats.embedded) == (docs.height, n_new), stats
            assert table.height == grown.height
            print(
                f"incremental {r + 1}: {stats.total} docs, {stats.cached} cached, "
                f"{stats.embedded} embedded in {inc_s[-1]:.2f} s"
            )

    full, inc = statistics.median(full_s), statistics.median(inc_s)
    print(
        f"docs={docs.height} new={n_new} device={embedder.resolved_device} "
        f"batch_size={args.batch_size} torch_threads={torch.get_num_threads()} "
        f"repeats={args.repeats}"
    )
    print(f"full embedding: {full:.2f} s ({docs.height / full:,.0f} docs/s, median)")
    print(f"incremental (+{n_new} new): {inc:.2f} s (median)")
    print(f"embed_incremental fraction={inc / full:.4f}")


if __name__ == "__main__":
    main()
