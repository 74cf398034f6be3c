"""The project's CPU embedding batch (16) vs sentence-transformers' default (32) on long texts.

`embedding.batch_size` unset picks 16 texts per forward pass on a CPU (64 on a GPU). A batch is
padded to its longest text, and the attention cost grows with the square of that length, so on
CPU the smaller batch wastes less work on padding when lengths vary. Both sides embed the same
texts (the demo's corpus: the standard library's docstrings, in corpus order) with the same
MiniLM weights, device and torch threads, warmed up, in alternating order, `--repeats` times;
medians are compared.

    python benchmarks/embed_batch_size.py [--n 800] [--repeats 3]

Last line: `embed_batch_size ratio=R`, R = bare seconds / project seconds (above 1: faster).
"""

from __future__ import annotations

import argparse
import inspect
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def stdlib_texts(n: int) -> list[str]:
    """The first `n` documents of the demo's corpus (public standard-library docstrings)."""
    from factory.config import FactoryConfig
    from factory.corpus import ingest_corpus

    result = ingest_corpus(FactoryConfig.from_dict({"ingest": {"max_documents": n}}))
    return result.documents["text"].to_list()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800, help="documents to embed (default 800)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each (default 3)")
    args = parser.parse_args()

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from factory.embedding import SentenceTransformerEmbedder
    from factory.models import default_embedder_path

    texts = stdlib_texts(args.n)
    project = SentenceTransformerEmbedder(device="cpu")
    bare = SentenceTransformer(str(default_embedder_path()), device="cpu", local_files_only=True)
    bare_batch = inspect.signature(bare.encode).parameters["batch_size"].default

    def run_bare() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        vectors = bare.encode(texts, normalize_embeddings=True, show_progress_bar=False)
        return time.perf_counter() - start, np.asarray(vectors)

    def run_project() -> tuple[float, np.ndarray]:
        start = time.perf_counter()
        vectors = project.embed(texts)
        return time.perf_counter() - start, np.asarray(vectors)

    run_bare()  # warm-up: model load, allocator, tokenizer
    run_project()
    bare_s: list[float] = []
    project_s: list[float] = []
    for i in range(args.repeats):
        order = (run_bare, run_project) if i % 2 == 0 else (run_project, run_bare)
        results = {fn: fn() for fn in order}
        (b, bare_vectors), (p, project_vectors) = results[run_bare], results[run_project]
        cosine = float(np.min(np.sum(bare_vectors * project_vectors, axis=1)))
        bare_s.append(b)
        project_s.append(p)
        print(f"repeat {i + 1}: bare {b:.2f} s, project {p:.2f} s, min cosine {cosine:.6f}")

    bare_median, project_median = statistics.median(bare_s), statistics.median(project_s)
    lengths = [len(t) for t in texts]
    print(
        f"texts={len(texts)} chars median={statistics.median(lengths):.0f} max={max(lengths)} "
        f"device=cpu torch_threads={torch.get_num_threads()} repeats={args.repeats}"
    )
    print(f"bare SentenceTransformer.encode (batch {bare_batch}): {bare_median:.2f} s (median)")
    print(f"project embed (batch {project.batch_size}): {project_median:.2f} s (median)")
    print(f"embed_batch_size ratio={bare_median / project_median:.3f}")


if __name__ == "__main__":
    main()
