"""Time of the whole quality suite vs the one pass it cannot avoid: the reference LM alone.

Claim: `QualityGate.judge` (every metric of the 18 checks, five GX validations) costs little more
than scoring the same texts with bare llama.cpp, so the suite scales like its language model.

Setup, in this process: the reference is `--reference` banking77 train rows (first by content
hash) with real MiniLM vectors; its own rates (the train split's thresholds) are measured once,
before timing. The samples are `--sizes` rows drawn with replacement (fixed seed) from the other
train rows, with their MiniLM vectors computed once (embedding is outside both timings). The
evaluation set is HumanEval.

- project: `gate.judge(SampleSet(rows, vectors))`, with no perplexity cache (every text scored).
- bare: `llama_cpp.Llama(logits_all=True)` on the same GGUF, n_ctx, threads and token limit:
  tokenize, reset, eval, log-softmax NLL per distinct text, nothing else.

Both sides are warmed up on 50 texts; repeats alternate the order; medians of `--repeats`.
At the defaults it runs for about 75 minutes on 2 cores (the reference LM dominates both sides:
about 10 minutes per side per repeat at 10,000 rows).

    .venv/bin/python benchmarks/checks_suite.py [--sizes 1000 10000] [--repeats 3]

Last line: `checks_suite ratio=R`, R = project seconds / bare seconds at the largest size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import banking77_documents, banking77_train  # noqa: E402


def bare_scores(llm: object, texts: list[str], max_tokens: int) -> np.ndarray:
    """Perplexity per distinct text with bare llama.cpp calls."""
    out = []
    for text in dict.fromkeys(texts):
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=False)[:max_tokens]  # type: ignore[attr-defined]
        if len(tokens) < 2:
            continue
        llm.reset()  # type: ignore[attr-defined]
        llm.eval(tokens)  # type: ignore[attr-defined]
        rows = np.asarray(llm.scores[: len(tokens) - 1], dtype=np.float32)  # type: ignore[attr-defined]
        top = rows.max(axis=1)
        log_norm = np.log(np.exp(rows - top[:, None]).sum(axis=1, dtype=np.float64)) + top
        picked = rows[np.arange(len(tokens) - 1), np.asarray(tokens[1:])]
        out.append(float(np.exp(np.mean(log_norm - picked))))
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=int, default=2000, help="train rows as corpus (2000)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads (2)")
    args = parser.parse_args()

    path = banking77_train()
    if path is None:
        print("skipped: banking77 train.csv not found; set FACTORY_TEST_DATA to the data folder")
        return

    import llama_cpp
    import polars as pl

    from checks.fluency import ReferenceLM
    from checks.gate import QualityGate, embedded_eval_sets
    from checks.measure import SampleSet
    from checks.reference import QualityReference, QualityTools
    from factory.config import ChecksConfig
    from factory.embedding import SentenceTransformerEmbedder
    from factory.models import smollm2_gguf_path

    docs = banking77_documents(path)
    corpus, pool = docs.head(args.reference), docs.slice(args.reference)
    embedder = SentenceTransformerEmbedder(device="cpu")
    print(f"embedding {corpus.height} reference and {pool.height} pool rows ...", flush=True)
    corpus_vectors = embedder.embed(corpus["text"].to_list())
    pool_vectors = embedder.embed(pool["text"].to_list())

    config = ChecksConfig()
    tools = QualityTools(embedder, fluency_max_tokens=config.fluency_max_tokens)
    tools._lm = ReferenceLM(  # no cache: every judged text is scored
        n_threads=args.threads, max_tokens=config.fluency_max_tokens
    )
    labels = corpus["label"].to_list()
    reference = QualityReference(
        corpus["doc_id"].to_list(), corpus["text"].to_list(), labels, labels, corpus_vectors
    )
    gate = QualityGate(reference, embedded_eval_sets(["humaneval"], tools), config, tools)
    start = time.perf_counter()
    _ = gate.rates
    print(f"reference rates (once per corpus): {time.perf_counter() - start:.1f} s", flush=True)

    bare_llm = llama_cpp.Llama(
        model_path=str(smollm2_gguf_path()), n_ctx=tools._lm.n_ctx, n_threads=args.threads,
        logits_all=True, verbose=False,
    )  # fmt: skip
    rng = np.random.default_rng(0)
    warm = pool["text"].head(50).to_list()
    gate.judge(SampleSet(pool.head(50), pool_vectors[:50]))
    bare_scores(bare_llm, warm, config.fluency_max_tokens)

    ratio = float("nan")
    for size in args.sizes:
        pick = rng.choice(pool.height, size, replace=True)
        rows = pool[pick.tolist()].with_columns(
            pl.Series("sample_id", [f"s{i:06d}" for i in range(size)])
        )
        vectors = pool_vectors[pick]
        texts = rows["text"].to_list()
        project_s: list[float] = []
        bare_s: list[float] = []
        for i in range(args.repeats):
            sides = ["project", "bare"] if i % 2 == 0 else ["bare", "project"]
            for side in sides:
                start = time.perf_counter()
                if side == "project":
                    report = gate.judge(SampleSet(rows, vectors))
                    project_s.append(time.perf_counter() - start)
                else:
                    bare_scores(bare_llm, texts, config.fluency_max_tokens)
                    bare_s.append(time.perf_counter() - start)
            print(
                f"{size} rows, repeat {i + 1}: project {project_s[-1]:.2f} s, "
                f"bare {bare_s[-1]:.2f} s",
                flush=True,
            )
        project_med, bare_med = statistics.median(project_s), statistics.median(bare_s)
        ratio = project_med / bare_med
        failed = [c.name for c in report.checks if not c.passed]
        print(
            f"{size} rows: suite {project_med:.2f} s ({size / project_med:.0f} rows/s), "
            f"bare reference LM {bare_med:.2f} s, ratio {ratio:.3f}; failed checks: {failed}"
        )
    print(f"checks_suite ratio={ratio:.3f}")


if __name__ == "__main__":
    main()
