"""Fidelity of the project's synthesis recipe vs single-shot generation: closeness to the target.

Claim: interpolation with best-of-n candidates and a correction round lands closer to the target
vector than asking the teacher once.

Setup: banking77 train (never test) is split by a stable hash of each text into a train part
(90%) and a held-out part; the train part is embedded with all-MiniLM-L6-v2 and is the only
source of anchors and parents. Two sets of `--n` targets, budget 1 each, drawn with a fixed seed:

- on-manifold (`coverage` gaps): the embedding of a held-out document; anchors are its 4 nearest
  train-part documents. A real message exists there, so the targets are reachable.
- off-manifold (`bridge` gaps): the midpoint normalize(a + b) of two train documents of different
  labels (`--pairs mutual`: each is the other's nearest different-label neighbour; `random`:
  random different-label pairs); anchors are the midpoint's 4 nearest train documents.

Both recipes realize the same plan (`build_plan` with `SynthesisConfig()` defaults) on the same
llama.cpp server (SmolLM2-135M-Instruct) with the same base seed; repeats use seeds 0, 1, 2, ...
and report medians.

- project: the default recipe, `SynthesisConfig()`: 3 candidates per target, 1 correction round.
- single-shot: `SynthesisConfig(candidates_per_target=1, correction_rounds=0)`. Its one request
  per target is exactly the project's first round-0 request (same messages and seed), so per
  repeat both share one response cache and the single-shot run is answered from it; "requests"
  below count answered requests, cached or not.

Reported per recipe and target set: mean achieved cosine to the target (accepted samples), the
mean nearest-parent cosine `target_cosine` (what copying the nearest real document achieves; over
all targets, and over the accepted ones), acceptance rate, teacher requests per accepted sample,
label agreement rate (candidates whose label the train-split classifier ranks first) and the top 5
reasons candidates were dropped.

    .venv/bin/python benchmarks/synthesis_fidelity.py [--n 30] [--repeats 3] [--pairs mutual]

Smoke run: `--n 4 --repeats 1 --max-train 1000`.

Last line: `synthesis_fidelity on_manifold=X off_manifold=Y single_shot_on=X1 single_shot_off=Y1
ratio=R`: median mean achieved cosines of the project and single-shot recipes per set, and R = the
project's mean achieved cosine / single-shot's, pooled over both sets (target > 1).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
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
    import numpy as np
    import polars as pl

    from factory.embedding import Embedder
    from factory.synthesis import PlannedTarget, SynthesisResult, TrainSet

KIND = "classification"
MODEL = "smollm2"
ANCHORS = 4
SETS = ("on", "off")
SET_NAMES = {"on": "on-manifold (held-out docs)", "off": "off-manifold (bridge midpoints)"}


def split_documents(
    path: Path, held_out: float, max_train: int | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train part, held-out part) of banking77 train by a salted hash of each text."""
    import polars as pl

    from factory.hashing import content_hash

    docs = banking77_documents(path)
    bucket = docs["doc_id"].map_elements(
        lambda d: int(content_hash(f"synthesis_fidelity:{d}")[:8], 16) / 16**8,
        return_dtype=pl.Float64,
    )
    train, rest = docs.filter(bucket >= held_out), docs.filter(bucket < held_out)
    if max_train is not None:
        train = train.head(max_train)
    return train, rest


def _gap_rows(
    prefix: str,
    kind: str,
    targets: np.ndarray,
    train: TrainSet,
    evidence: list[list[str]],
) -> list[dict[str, Any]]:
    from factory.synthesis import nearest

    rows = []
    for i, target in enumerate(targets):
        anchors = nearest(train.vectors, target, ANCHORS).tolist()
        rows.append(
            {
                "gap_id": f"{prefix}-{i:03d}",
                "rank": i + 1,
                "kind": kind,
                "score": 1.0 / (i + 1),
                "shortfall": 0.5,
                "observed": 1.0,
                "expected": 2.0,
                "target": target.tolist(),
                "anchor_doc_ids": [train.doc_ids[r] for r in anchors],
                "evidence_doc_ids": evidence[i],
                "cluster_id": -1,
                "budget": 1,
                "rationale": f"benchmark {kind} target",
            }
        )
    return rows


def gaps_frame(rows: list[dict[str, Any]], dim: int) -> pl.DataFrame:
    """A COVERAGE_GAPS frame of `rows` with `dim`-d targets."""
    import polars as pl

    from factory.schemas import COVERAGE_GAPS, vector_dtype

    schema = {c.name: c.dtype for c in COVERAGE_GAPS.columns}
    schema["target"] = vector_dtype(dim)
    return pl.DataFrame(rows, schema=schema)


def on_manifold_gaps(
    train: TrainSet, held: pl.DataFrame, embedder: Embedder, n: int, seed: int
) -> pl.DataFrame:
    """`n` coverage gaps at the embeddings of seeded held-out documents."""
    import numpy as np

    if n > held.height:
        sys.exit(f"--n {n} is more than the {held.height} held-out documents")
    picks = np.random.default_rng(seed).choice(held.height, size=n, replace=False).tolist()
    vectors = embedder.embed([held["text"][p] for p in picks])
    evidence = [[held["doc_id"][p]] for p in picks]
    return gaps_frame(_gap_rows("on", "coverage", vectors, train, evidence), vectors.shape[1])


def _nearest_other_label(train: TrainSet, chunk: int = 1024) -> np.ndarray:
    """For every train row, the nearest train row with a different label; shape (n,)."""
    import numpy as np

    labels = np.array(train.labels, dtype=object)
    out = np.empty(len(labels), dtype=np.int64)
    for start in range(0, len(labels), chunk):
        sims = train.vectors[start : start + chunk] @ train.vectors.T
        same = labels[start : start + chunk, None] == labels[None, :]
        sims[same] = -np.inf
        out[start : start + chunk] = sims.argmax(axis=1)
    return out


def off_manifold_gaps(train: TrainSet, n: int, seed: int, pairs: str) -> pl.DataFrame:
    """`n` bridge gaps at midpoints of seeded different-label train pairs."""
    import numpy as np

    rng = np.random.default_rng(seed)
    labels = train.labels
    if pairs == "mutual":
        other = _nearest_other_label(train)
        found = sorted({(a, int(b)) for a, b in enumerate(other) if other[b] == a and a < b})
        if len(found) < n:
            sys.exit(f"only {len(found)} mutual nearest different-label pairs; use --pairs random")
        chosen = [found[i] for i in rng.choice(len(found), size=n, replace=False)]
    else:
        chosen, seen = [], set()
        while len(chosen) < n:
            a, b = (int(x) for x in rng.choice(len(labels), size=2, replace=False))
            if labels[a] != labels[b] and (min(a, b), max(a, b)) not in seen:
                seen.add((min(a, b), max(a, b)))
                chosen.append((a, b))
    mids = np.stack([train.vectors[a] + train.vectors[b] for a, b in chosen])
    mids /= np.linalg.norm(mids, axis=1, keepdims=True)
    rows = _gap_rows("off", "bridge", mids, train, [[] for _ in chosen])
    return gaps_frame(rows, mids.shape[1])


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _median(values: list[float]) -> float:
    present = [v for v in values if not math.isnan(v)]
    return statistics.median(present) if present else math.nan


def summarize(plan: list[PlannedTarget], result: SynthesisResult) -> dict[str, Any]:
    """One run's figures: achieved and nearest-parent cosines, acceptance, requests, reasons."""
    samples, rejects, stats = result.samples, result.rejects, result.stats
    achieved = samples["achieved_cosine"].to_list()
    agreement = stats["label_agreement_rate"]
    answered = int(samples["candidates"].sum() or 0) + int(rejects["candidates"].sum() or 0)
    return {
        "achieved": achieved,
        "mean_achieved": _mean(achieved),
        "reference_all": _mean([t.target_cosine for t in plan]),
        "reference_accepted": _mean(samples["target_cosine"].to_list()),
        "acceptance": samples.height / len(plan) if plan else math.nan,
        "requests": answered,
        "calls": stats["calls"],
        "per_accepted": answered / samples.height if samples.height else math.nan,
        "label_agreement": math.nan if agreement is None else agreement,
        "candidate_reasons": Counter(stats["candidate_reasons"]),
        "reasons": Counter(stats["reasons"]),
        "accepted": samples.height,
        "examples": samples.sort("achieved_cosine", descending=True)
        .select("achieved_cosine", "target_cosine", "label", "text")
        .head(3)
        .rows(),
    }


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30, help="targets per set (default 30)")
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats, seeds 0..repeats-1 (default 3)"
    )
    parser.add_argument(
        "--pairs",
        choices=("mutual", "random"),
        default="mutual",
        help="off-manifold pairs: mutual nearest different-label neighbours (default) or random",
    )
    parser.add_argument("--held-out", type=float, default=0.1, help="held-out fraction (0.1)")
    parser.add_argument(
        "--max-train", type=int, default=None, help="cap the train part (default: all of it)"
    )
    add_teacher_arguments(parser)
    parser.add_argument("--draw-seed", type=int, default=0, help="seed of the target draw (0)")
    args = parser.parse_args()

    found = banking77_and_teacher_or_skip()
    if found is None:
        return
    data, gguf = found

    from factory.config import SynthesisConfig, TeacherConfig
    from factory.embedding import SentenceTransformerEmbedder
    from factory.serving import LlamaServer
    from factory.synthesis import TrainSet, build_plan, synthesize
    from factory.teacher import OpenAIChatTeacher
    from factory.teacher.cache import ResponseCache

    began = time.perf_counter()
    train_docs, held = split_documents(data, args.held_out, args.max_train)
    print(
        f"embedding {train_docs.height} train-part texts ({held.height} held out) ...", flush=True
    )
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    train = TrainSet.from_frames(train_docs, embedder.embed(train_docs["text"].to_list()), KIND)
    gaps = {
        "on": on_manifold_gaps(train, held, embedder, args.n, args.draw_seed),
        "off": off_manifold_gaps(train, args.n, args.draw_seed, args.pairs),
    }
    plans = {s: build_plan(gaps[s], train, SynthesisConfig(), KIND) for s in SETS}
    sampling = TeacherConfig(max_tokens=args.max_tokens)
    recipes = {
        "project": {"concurrency": args.concurrency},
        "single-shot": {
            "candidates_per_target": 1,
            "correction_rounds": 0,
            "concurrency": args.concurrency,
        },
    }
    print(f"plans ready ({time.perf_counter() - began:.0f} s)", flush=True)

    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(r, s): [] for r in recipes for s in SETS}
    with (
        tempfile.TemporaryDirectory(prefix="synthesis_fidelity-") as tmp,
        LlamaServer(gguf, log_dir=Path(tmp) / "llama", n_threads=args.threads) as server,
    ):
        teacher = OpenAIChatTeacher(server.base_url, MODEL, weights_path=gguf)
        for seed in range(args.repeats):
            with ResponseCache(Path(tmp) / f"seed-{seed}.sqlite") as cache:
                for s in SETS:
                    for recipe, overrides in recipes.items():
                        config = SynthesisConfig(seed=seed, **overrides)
                        start = time.perf_counter()
                        result = synthesize(
                            plans[s], train, embedder, teacher, config, sampling, KIND,
                            f"fidelity-{recipe}-{s}-{seed}", cache,
                        )  # fmt: skip
                        summary = summarize(plans[s], result)
                        runs[(recipe, s)].append(summary)
                        print(
                            f"seed {seed} {s}-manifold {recipe}: accepted "
                            f"{summary['accepted']}/{len(plans[s])}, mean achieved "
                            f"{_fmt(summary['mean_achieved'])}, {summary['requests']} requests "
                            f"({summary['calls']} sent), {time.perf_counter() - start:.0f} s "
                            f"(total {time.perf_counter() - began:.0f} s)",
                            flush=True,
                        )

    print(
        f"targets per set={args.n} train_part={len(train.doc_ids)} held_out={held.height} "
        f"pairs={args.pairs} repeats={args.repeats} max_tokens={args.max_tokens} "
        f"concurrency={args.concurrency} llama_threads={args.threads} "
        f"seconds={time.perf_counter() - began:.0f}"
    )
    for s in SETS:
        reference = runs[("project", s)][0]["reference_all"]
        print(f"{SET_NAMES[s]}: nearest-parent cosine {_fmt(reference)} (all targets)")
        for recipe in recipes:
            rows = runs[(recipe, s)]
            dropped = sum((r["candidate_reasons"] for r in rows), Counter())
            rejected = sum((r["reasons"] for r in rows), Counter())
            top = ", ".join(f"{k} {v}" for k, v in dropped.most_common(5)) or "none"
            print(
                f"  {recipe}: achieved {_fmt(_median([r['mean_achieved'] for r in rows]))} "
                f"(nearest parent on the accepted "
                f"{_fmt(_median([r['reference_accepted'] for r in rows]))}), acceptance "
                f"{_fmt(_median([r['acceptance'] for r in rows]))}, requests/accepted "
                f"{_fmt(_median([r['per_accepted'] for r in rows]))}, label agreement "
                f"{_fmt(_median([r['label_agreement'] for r in rows]))}"
            )
            print(f"    candidates dropped (all repeats): {top}")
            print(f"    targets rejected (all repeats): {dict(rejected.most_common(5)) or 'none'}")
            for achieved, goal, label, text in rows[-1]["examples"]:
                print(f"    e.g. {achieved:.3f} (nearest parent {goal:.3f}) [{label}] {text!r}")

    def pooled(recipe: str) -> float:
        per_seed = [
            _mean(runs[(recipe, "on")][i]["achieved"] + runs[(recipe, "off")][i]["achieved"])
            for i in range(args.repeats)
        ]
        return _median(per_seed)

    def med(recipe: str, s: str) -> str:
        return _fmt(_median([r["mean_achieved"] for r in runs[(recipe, s)]]))

    ratio = pooled("project") / pooled("single-shot")
    print(
        f"pooled mean achieved cosine: project {_fmt(pooled('project'))}, "
        f"single-shot {_fmt(pooled('single-shot'))}"
    )
    print(
        f"synthesis_fidelity on_manifold={med('project', 'on')} "
        f"off_manifold={med('project', 'off')} single_shot_on={med('single-shot', 'on')} "
        f"single_shot_off={med('single-shot', 'off')} ratio={_fmt(ratio)}"
    )


if __name__ == "__main__":
    main()
