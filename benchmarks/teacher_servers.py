"""The embedded teacher as two 1-thread llama.cpp servers vs one 2-thread server.

Claim: on a 2-core machine, `teacher.servers: 2` (the default; `TeacherPool` over two servers
with `n_threads / 2` threads each) answers the synthesis requests of the demo faster than one
server with both threads, with the same answers. llama-cpp-python's server answers one request
at a time and samples under the JSON grammar on one thread, so one server leaves a core idle.

Setup: the demo's corpus (Python standard-library docstrings, read with `ast`); `--targets`
prompts built as synthesis builds them (`build_messages`, three docstrings each, the `text`
answer schema as `json_object`), `--candidates` seeds each, `max_tokens` 64 as in the demo.
Each side is started through `start_teacher` (`TeacherConfig(n_threads=--threads,
servers=1 | 2)`); a target's candidates go back to back to one server (`TeacherPool.lane`, a
lock for one server), targets run `servers` at a time. Both sides are warmed with one request
per server; repeats alternate which side goes first; medians of `--repeats`.

    .venv/bin/python benchmarks/teacher_servers.py [--targets 12] [--candidates 3] [--repeats 3]

Run length: about 5 minutes on 2 CPU cores at the defaults.

Last line: `teacher_servers ratio=R`, R = one-server median seconds / pool median seconds
(above 1: the pool is faster).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks._synthesis_common import teacher_or_skip  # noqa: E402
from factory.config import FactoryConfig, TeacherConfig  # noqa: E402
from factory.corpus import ingest_corpus  # noqa: E402
from factory.synthesis.answers import answer_schema  # noqa: E402
from factory.synthesis.prompts import build_messages  # noqa: E402
from factory.teacher import ChatRequest, Teacher, TeacherPool, start_teacher  # noqa: E402


def requests(targets: int, candidates: int) -> list[list[ChatRequest]]:
    """One list of `candidates` requests (seeds 0..) per target, three docstrings a prompt."""
    corpus = ingest_corpus(FactoryConfig.from_dict({"ingest": {"max_documents": targets * 3}}))
    texts = corpus.documents["text"].to_list()
    schema = {"type": "json_object", "schema": answer_schema("text")}
    return [
        [
            ChatRequest(build_messages("text", texts[3 * t : 3 * t + 3]), 0.8, 0.95, 64, s, schema)
            for s in range(candidates)
        ]
        for t in range(targets)
    ]


async def answer_all(teacher: Teacher, work: list[list[ChatRequest]]) -> list[str]:
    """Every target's candidates back to back on one server, `lanes` targets at a time."""
    import httpx

    lanes = teacher.lanes if isinstance(teacher, TeacherPool) else 1
    lock = asyncio.Lock()

    def hold() -> AbstractAsyncContextManager[Any]:
        return teacher.lane() if isinstance(teacher, TeacherPool) else lock

    gate = asyncio.Semaphore(lanes)
    async with httpx.AsyncClient(timeout=600, **teacher.client_options()) as client:

        async def target(batch: list[ChatRequest]) -> list[str]:
            async with gate, hold():
                return [(await teacher.acomplete(r, client)).text for r in batch]

        done = await asyncio.gather(*map(target, work))
    return [text for batch in done for text in batch]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, default=12, help="prompts (default 12)")
    parser.add_argument("--candidates", type=int, default=3, help="seeds per prompt (3)")
    parser.add_argument("--threads", type=int, default=2, help="threads in all (default 2)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (default 3)")
    args = parser.parse_args()
    if teacher_or_skip() is None:
        return

    work = requests(args.targets, args.candidates)
    warm = requests(1, 1)
    sides = {"one server": 1, "pool": 2}
    seconds: dict[str, list[float]] = {name: [] for name in sides}
    answers: dict[str, list[str]] = {}
    logs = Path(tempfile.mkdtemp(prefix="teacher-servers-"))
    config = {name: TeacherConfig(n_threads=args.threads, servers=n) for name, n in sides.items()}
    for repeat in range(args.repeats):
        order = list(sides) if repeat % 2 == 0 else list(reversed(sides))
        for name in order:
            with start_teacher(config[name], logs) as teacher:
                asyncio.run(answer_all(teacher, warm * sides[name]))
                started = time.perf_counter()
                answers[name] = asyncio.run(answer_all(teacher, work))
                seconds[name].append(time.perf_counter() - started)
            print(f"repeat {repeat + 1} {name}: {seconds[name][-1]:.1f} s", flush=True)
    calls = args.targets * args.candidates
    same = sum(a == b for a, b in zip(answers["one server"], answers["pool"], strict=True))
    one, pool = (statistics.median(seconds[name]) for name in sides)
    print(
        f"{calls} requests, threads={args.threads}, repeats={args.repeats}: one 2-thread server "
        f"{one:.1f} s ({calls / one:.2f} calls/s), two 1-thread servers {pool:.1f} s "
        f"({calls / pool:.2f} calls/s); identical answers {same} of {calls}"
    )
    print(f"teacher_servers ratio={one / pool:.2f}")


if __name__ == "__main__":
    main()
