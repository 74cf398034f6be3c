"""Several candidates per target on llama.cpp: sent back to back vs interleaved across targets.

Claim: with `candidates_per_target > 1` on the local llama.cpp server (one request at a time, a
cache of the last prompt), `synthesize` is faster when each target's candidates reach the server
back to back (`group_candidates=True`, the default there) than when the requests of the
`--concurrency` targets in flight interleave (`group_candidates=False`), which makes the server
evaluate the shared prompt again for every candidate. The answers are the same either way (an
answer depends only on the request and its seed); the script checks it.

Setup, in this process: `--n` banking77 train texts (the first by content hash) are embedded
with all-MiniLM-L6-v2; `--prompts` of them, drawn with a fixed seed, each make a `sparse_region`
gap of budget 1 whose anchors are its 4 nearest neighbours (the gaps of
`benchmarks/synthesis_throughput.py`). Each side realizes that plan with
`SynthesisConfig(candidates_per_target=--candidates, correction_rounds=0,
concurrency=--concurrency)` and `TeacherConfig(max_tokens=--max-tokens)` on a fresh response
cache, so every request goes to the one server both sides share. Both sides are warmed first;
repeats alternate which side goes first; medians of `--repeats` are compared.

    .venv/bin/python benchmarks/candidate_grouping.py [--n 600] [--prompts 30] [--candidates 3]
        [--concurrency 4] [--repeats 3]

Run length: about 12 minutes on 2 CPU cores at the defaults. Smoke run: `--n 200 --prompts 4
--repeats 1`.

Last line: `candidate_grouping ratio=R`, R = interleaved median seconds / grouped median seconds
(above 1: grouping is faster).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import (  # noqa: E402
    add_teacher_arguments,
    banking77_and_teacher_or_skip,
)
from benchmarks.synthesis_throughput import KIND, MODEL, neighbour_gaps, train_documents  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600, help="train texts embedded (default 600)")
    parser.add_argument("--prompts", type=int, default=30, help="targets per side (default 30)")
    parser.add_argument("--candidates", type=int, default=3, help="candidates per target (3)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats of each (default 3)")
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
    from factory.synthesis import SynthesisResult, TrainSet, build_plan, synthesize
    from factory.teacher import OpenAIChatTeacher
    from factory.teacher.cache import ResponseCache

    synth = SynthesisConfig(
        candidates_per_target=args.candidates,
        correction_rounds=0,
        concurrency=args.concurrency,
        seed=args.seed,
    )
    sampling = TeacherConfig(max_tokens=args.max_tokens)
    print(f"embedding {args.n} banking77 train texts ...", flush=True)
    docs = train_documents(data, args.n)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    train = TrainSet.from_frames(docs, embedder.embed(docs["text"].to_list()), KIND)
    plan = build_plan(neighbour_gaps(train, args.prompts, args.seed), train, synth, KIND)

    with (
        tempfile.TemporaryDirectory(prefix="candidate_grouping-") as tmp,
        LlamaServer(gguf, log_dir=Path(tmp) / "llama", n_threads=args.threads) as server,
    ):
        teacher = OpenAIChatTeacher(server.base_url, MODEL, weights_path=gguf)
        runs = 0

        def realize(grouped: bool, targets: list) -> tuple[float, SynthesisResult]:  # type: ignore[type-arg]
            nonlocal runs
            runs += 1
            with ResponseCache(Path(tmp) / f"cache-{runs}.sqlite") as cache:
                start = time.perf_counter()
                result = synthesize(
                    targets, train, embedder, teacher, synth, sampling, KIND, "grouping", cache,
                    group_candidates=grouped,
                )  # fmt: skip
                return time.perf_counter() - start, result

        warm = plan[: min(2, len(plan))]
        realize(True, warm)
        realize(False, warm)
        seconds: dict[bool, list[float]] = {True: [], False: []}
        texts: dict[bool, list[str]] = {}
        for i in range(args.repeats):
            for grouped in (True, False) if i % 2 == 0 else (False, True):
                took, result = realize(grouped, plan)
                seconds[grouped].append(took)
                texts[grouped] = sorted(result.samples["text"].to_list())
            print(
                f"repeat {i + 1}: grouped {seconds[True][-1]:.1f} s, "
                f"interleaved {seconds[False][-1]:.1f} s",
                flush=True,
            )

    grouped_med = statistics.median(seconds[True])
    interleaved_med = statistics.median(seconds[False])
    calls = len(plan) * args.candidates
    print(
        f"targets={len(plan)} candidates={args.candidates} calls={calls} "
        f"concurrency={args.concurrency} max_tokens={args.max_tokens} "
        f"llama_threads={args.threads} repeats={args.repeats}"
    )
    print(f"same answers on both sides: {texts[True] == texts[False]}")
    print(f"grouped: {grouped_med:.1f} s, {calls / grouped_med:.2f} calls/s (median)")
    print(f"interleaved: {interleaved_med:.1f} s, {calls / interleaved_med:.2f} calls/s (median)")
    print(f"candidate_grouping ratio={interleaved_med / grouped_med:.3f}")


if __name__ == "__main__":
    main()
