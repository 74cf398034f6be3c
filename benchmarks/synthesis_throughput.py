"""Throughput of the project's synthesis vs a bare async client on the same teacher requests.

Claim: `factory.synthesis.synthesize` keeps up with a bare `httpx.AsyncClient` sending the same
requests to the same llama.cpp server (SmolLM2-135M-Instruct), and a rerun on a full response
cache is nearly free.

Setup, in this process: `--n` banking77 train texts (the first by content hash) are embedded
with all-MiniLM-L6-v2; `--prompts` of them, drawn with a fixed seed, each make a hand-made
`sparse_region` gap whose anchors are that document's 4 nearest neighbours and whose target is
their normalized mean, budget 1. The plan therefore has one target per gap, realized with
`SynthesisConfig(candidates_per_target=1, correction_rounds=0, concurrency=C)` and
`TeacherConfig(max_tokens=48)`: exactly one teacher request per target.

- project: `synthesize(...)` with a fresh `ResponseCache` each repeat (cold: every request goes
  to the server; the first request learns that llama.cpp refuses `json_schema`, as in a real
  first run), including what the project adds around the calls (label classifier, re-embedding
  each answer, parsing, checks, result frames).
- bare: the same requests rebuilt by hand (messages from `build_messages` with the plan's
  parents and label, TeacherConfig sampling, the seed `derive_seed(seed, target_id, 0, 0)`,
  `response_format` json_object with the answer schema, the format the project settles on) and
  POSTed with one `httpx.AsyncClient` under `asyncio.Semaphore(C)`; every answer must be HTTP 200.
  The bare answers are checked against the project's cache: same key, same text.
- cached rerun: `synthesize(...)` again on the last cold cache (every request a cache hit).

Both sides are warmed first (`--warm` requests each); repeats alternate which side goes first;
medians of `--repeats` (default 3) are compared. The server runs with `--threads` CPU threads.

    .venv/bin/python benchmarks/synthesis_throughput.py [--n 2000] [--prompts 200]
        [--concurrency 4] [--repeats 3]

Run length: about 45 minutes on 2 CPU cores at the defaults (`--n 2000 --prompts 200
--repeats 3`). Smoke run: `--n 200 --prompts 8 --repeats 1`.

Last line: `synthesis_throughput ratio=R cached_rerun_speedup=S`, R = project requests/s / bare
requests/s (target >= 0.9), S = median cold project seconds / median cached-rerun seconds
(target >= 50).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import (  # noqa: E402
    add_teacher_arguments,
    banking77_and_teacher_or_skip,
    banking77_documents,
)

if TYPE_CHECKING:
    import polars as pl

    from factory.synthesis import PlannedTarget, TrainSet

KIND = "classification"
MODEL = "smollm2"
ANCHORS = 4


def train_documents(path: Path, n: int) -> pl.DataFrame:
    """The first `n` distinct train texts by content hash: doc_id, text, label, answer (null)."""

    docs = banking77_documents(path)
    if docs.height < n:
        sys.exit(f"--n {n} is more than the {docs.height} distinct banking77 train texts")
    return docs.head(n)


def neighbour_gaps(train: TrainSet, prompts: int, seed: int) -> pl.DataFrame:
    """`prompts` sparse_region gaps, budget 1: a seeded train doc's 4 nearest neighbours."""
    import numpy as np
    import polars as pl

    from factory.schemas import COVERAGE_GAPS, vector_dtype
    from factory.synthesis import nearest

    if prompts > len(train.doc_ids):
        sys.exit(f"--prompts {prompts} is more than the {len(train.doc_ids)} train documents")
    rng = np.random.default_rng(seed)
    centres = rng.choice(len(train.doc_ids), size=prompts, replace=False)
    rows: list[dict[str, Any]] = []
    for i, centre in enumerate(centres.tolist()):
        anchors = nearest(train.vectors, train.vectors[centre], ANCHORS).tolist()
        mean = train.vectors[anchors].mean(axis=0)
        rows.append(
            {
                "gap_id": f"throughput-{i:04d}",
                "rank": i + 1,
                "kind": "sparse_region",
                "score": 1.0 / (i + 1),
                "shortfall": 0.5,
                "observed": 1.0,
                "expected": 2.0,
                "target": (mean / np.linalg.norm(mean)).tolist(),
                "anchor_doc_ids": [train.doc_ids[r] for r in anchors],
                "evidence_doc_ids": [],
                "cluster_id": -1,
                "budget": 1,
                "rationale": "benchmark gap: a train document's nearest neighbours",
            }
        )
    schema = {c.name: c.dtype for c in COVERAGE_GAPS.columns}
    schema["target"] = vector_dtype(train.vectors.shape[1])
    return pl.DataFrame(rows, schema=schema)


def bare_payloads(
    plan: list[PlannedTarget], train: TrainSet, seed: int, temperature: float, top_p: float,
    max_tokens: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """The chat payload the project sends for each target's only request (json_object mode)."""
    from factory.synthesis import Example, answer_schema, build_messages, derive_seed
    from factory.teacher.calls import response_format_field

    rows = train.row_of()
    response_format = response_format_field("json_object", answer_schema(KIND))
    out = []
    for target in plan:
        parents = [rows[d] for d in target.parent_doc_ids]
        examples = [Example(train.texts[r], train.answers[r]) for r in parents]
        out.append(
            {
                "model": MODEL,
                "messages": build_messages(KIND, examples, label=target.label),
                "temperature": temperature,
                "top_p": top_p,
                "max_tokens": max_tokens,
                "seed": derive_seed(seed, target.target_id, 0, 0),
                "n": 1,
                "stream": False,
                "response_format": response_format,
            }
        )
    return out


async def _post_all(
    base_url: str, payloads: list[dict[str, Any]], concurrency: int, timeout_s: float
) -> list[dict[str, Any]]:
    import httpx

    url = base_url.rstrip("/") + "/chat/completions"
    semaphore = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=timeout_s) as client:

        async def one(payload: dict[str, Any]) -> dict[str, Any]:
            async with semaphore:
                resp = await client.post(url, json=payload)
            if resp.status_code != 200:
                msg = f"bare request answered HTTP {resp.status_code}: {resp.text[:300]}"
                raise RuntimeError(msg)
            body: dict[str, Any] = resp.json()
            return body

        return list(await asyncio.gather(*(one(p) for p in payloads)))


def post_all(
    base_url: str, payloads: list[dict[str, Any]], concurrency: int, timeout_s: float
) -> list[dict[str, Any]]:
    """POST every payload with at most `concurrency` in flight; the JSON bodies, in order."""
    return asyncio.run(_post_all(base_url, payloads, concurrency, timeout_s))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="train texts embedded (default 2000)")
    parser.add_argument(
        "--prompts", type=int, default=200, help="targets = teacher requests per side (default 200)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each (default 3)")
    parser.add_argument("--warm", type=int, default=4, help="warm-up requests per side (4)")
    add_teacher_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="synthesis base seed and gap draw (0)")
    args = parser.parse_args()

    found = banking77_and_teacher_or_skip()
    if found is None:
        return
    data, gguf = found

    from factory.config import SynthesisConfig, TeacherConfig
    from factory.embedding import SentenceTransformerEmbedder
    from factory.serving import LlamaServer
    from factory.synthesis import SynthesisResult, TrainSet, answer_schema, build_plan, synthesize
    from factory.teacher import OpenAIChatTeacher
    from factory.teacher.cache import ResponseCache
    from factory.teacher.calls import SampleRequest, request_key

    synth = SynthesisConfig(
        candidates_per_target=1, correction_rounds=0, concurrency=args.concurrency, seed=args.seed
    )
    sampling = TeacherConfig(max_tokens=args.max_tokens)

    print(f"embedding {args.n} banking77 train texts ...", flush=True)
    docs = train_documents(data, args.n)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    train = TrainSet.from_frames(docs, embedder.embed(docs["text"].to_list()), KIND)
    plan = build_plan(neighbour_gaps(train, args.prompts, args.seed), train, synth, KIND)
    assert len(plan) == args.prompts, len(plan)
    payloads = bare_payloads(
        plan, train, synth.seed, sampling.temperature, sampling.top_p, sampling.max_tokens
    )
    warm_n = max(1, min(args.warm, len(plan)))

    with (
        tempfile.TemporaryDirectory(prefix="synthesis_throughput-") as tmp,
        LlamaServer(gguf, log_dir=Path(tmp) / "llama", n_threads=args.threads) as server,
    ):
        teacher = OpenAIChatTeacher(server.base_url, MODEL, weights_path=gguf)
        timeout_s = teacher.timeout_s

        def run_project(cache: ResponseCache, targets: list[PlannedTarget]) -> SynthesisResult:
            return synthesize(
                targets, train, embedder, teacher, synth, sampling, KIND, "throughput", cache
            )

        # Warm-up: model weights hashed once (the teacher fingerprint), embedder, sklearn, the
        # server's first requests; the warm-up targets are the plan's first (the timed runs use
        # fresh caches, and the server keeps no state between requests).
        with ResponseCache(Path(tmp) / "warm.sqlite") as cache:
            run_project(cache, plan[:warm_n])
        post_all(server.base_url, payloads[:warm_n], args.concurrency, timeout_s)

        bare_s: list[float] = []
        project_s: list[float] = []
        bodies: list[dict[str, Any]] = []
        result: SynthesisResult | None = None
        last_cache = Path(tmp) / "cold-0.sqlite"

        def time_bare() -> None:
            nonlocal bodies
            start = time.perf_counter()
            bodies = post_all(server.base_url, payloads, args.concurrency, timeout_s)
            bare_s.append(time.perf_counter() - start)

        def time_project(i: int) -> None:
            nonlocal result, last_cache
            last_cache = Path(tmp) / f"cold-{i}.sqlite"
            with ResponseCache(last_cache) as cache:
                start = time.perf_counter()
                result = run_project(cache, plan)
                project_s.append(time.perf_counter() - start)
            stats = result.stats
            if stats["calls"] != len(plan) or stats["failed_calls"]:
                sys.exit(f"project run sent {stats['calls']} of {len(plan)} requests: {stats}")

        for i in range(args.repeats):
            # Alternate the order so a drifting background load hits both sides alike.
            if i % 2 == 0:
                time_project(i)
                time_bare()
            else:
                time_bare()
                time_project(i)
            print(
                f"repeat {i + 1}: project {project_s[-1]:.2f} s, bare {bare_s[-1]:.2f} s",
                flush=True,
            )

        assert result is not None
        stats = result.stats
        schema = answer_schema(KIND)
        same = 0
        bare_prompt = bare_completion = 0
        with ResponseCache(last_cache) as cache:
            for payload, body in zip(payloads, bodies, strict=True):
                request = SampleRequest(
                    payload["messages"], payload["temperature"], payload["top_p"],
                    payload["max_tokens"], payload["seed"], schema,
                )  # fmt: skip
                hit = cache.get(request_key(teacher.fingerprint, "json_object", request))
                text = body["choices"][0]["message"].get("content") or ""
                same += int(hit is not None and hit.text == text)
                bare_prompt += int(body.get("usage", {}).get("prompt_tokens") or 0)
                bare_completion += int(body.get("usage", {}).get("completion_tokens") or 0)

            cached_s: list[float] = []
            for i in range(args.repeats):
                start = time.perf_counter()
                rerun = run_project(cache, plan)
                cached_s.append(time.perf_counter() - start)
                if rerun.stats["calls"] or rerun.stats["cache_hits"] != len(plan):
                    sys.exit(f"cached rerun was not all cache hits: {rerun.stats}")
                print(f"cached rerun {i + 1}: {cached_s[-1]:.3f} s", flush=True)

    bare_med = statistics.median(bare_s)
    project_med = statistics.median(project_s)
    cached_med = statistics.median(cached_s)
    bare_rate = len(plan) / bare_med
    project_rate = len(plan) / project_med
    print(
        f"prompts={len(plan)} train_docs={len(train.doc_ids)} concurrency={args.concurrency} "
        f"max_tokens={args.max_tokens} llama_threads={args.threads} repeats={args.repeats}"
    )
    print(
        f"project response_format={stats['response_format']} changes="
        f"{stats['response_format_changes']} accepted={stats['accepted']}/{len(plan)}"
    )
    print(
        f"same work: bare answers identical to the project's cached ones {same}/{len(plan)}; "
        f"prompt tokens project={stats['prompt_tokens']} bare={bare_prompt}; "
        f"completion tokens project={stats['completion_tokens']} bare={bare_completion}"
    )
    print(f"bare httpx.AsyncClient: {bare_med:.2f} s, {bare_rate:.2f} requests/s (median)")
    print(
        f"project synthesize, cold cache: {project_med:.2f} s, {project_rate:.2f} requests/s "
        "(median)"
    )
    print(f"project synthesize, cached rerun: {cached_med:.3f} s (median)")
    print(
        f"synthesis_throughput ratio={project_rate / bare_rate:.3f} "
        f"cached_rerun_speedup={project_med / cached_med:.1f}"
    )


if __name__ == "__main__":
    main()
