"""The utility experiment: does gap targeting pay?

On banking77 with `cut_intents` intents cut to `keep_fraction` of their train rows
(`factory.experiments.data`), the same student is trained, once per seed, on:

- (a) `train_only`: the cut train split;
- (b) `untargeted`: + N rows realized at random train rows (`untargeted_plan`);
- (c) `targeted`: + N rows at the gaps `find_gaps` finds against the unlabelled reference;
- (d) `adversarial`: + N1 = N - N2 rows as in (c), the student trained on those is evaluated
  on validation, its failure regions become gaps, + N2 = round(adversarial_share * N) rows
  there, and the student is trained again on train + N1 + N2;
- (e) `full_data`: the train split without the cut (the ceiling; no synthetic rows).

The accepted synthetic rows of (b), (c) and (d) are judged by a label oracle the pipeline never
sees: a linear head trained on the uncut train split (`label_precision`).

One teacher, one synthesis config and one response cache serve (b), (c) and (d); N is the number
of targets requested, and `n_synthetic` the rows the teacher's answers yielded (a target whose
candidates all fail the label check or parsing yields none). Accuracy is measured on test.csv,
overall and on the cut intents. Each (condition, seed) outcome is kept as JSON in the work folder
(with its synthetic rows as Parquet), so a rerun recomputes nothing and calls no teacher.

Example:
    >>> config = load_experiment_config("examples/utility.yaml")  # doctest: +SKIP
    >>> result = run_utility(config, "quick")  # doctest: +SKIP
    >>> [c.condition for c in summarize(result.outcomes)]  # doctest: +SKIP
    ['train_only', 'untargeted', 'targeted', 'adversarial']
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from factory.config import SynthesisConfig
from factory.embedding.base import Embedder
from factory.experiments.config import Mode, UtilityExperimentConfig
from factory.experiments.data import ExperimentData, load_data
from factory.experiments.plans import gap_plan, untargeted_plan
from factory.experiments.space import ExperimentSpace, Progress, prepare_space
from factory.experiments.students import train_student
from factory.hashing import fingerprint
from factory.home import Home, shared_models
from factory.synthesis import PlannedTarget
from factory.teacher.base import Teacher

__all__ = [
    "CONDITIONS",
    "CONDITION_LABELS",
    "SYNTHETIC_CONDITIONS",
    "UTILITY_CODE_VERSION",
    "SeedOutcome",
    "UtilityResult",
    "adversarial_split",
    "label_precision",
    "run_utility",
]

logger = logging.getLogger("factory.experiments")

UTILITY_CODE_VERSION = "utility-v2"
CONDITIONS = ("train_only", "untargeted", "targeted", "adversarial", "full_data")
CONDITION_LABELS = {
    "train_only": "(a) train only",
    "untargeted": "(b) + untargeted",
    "targeted": "(c) + gap-targeted",
    "adversarial": "(d) + adversarial round",
    "full_data": "(e) full data (ceiling)",
}
SYNTHETIC_CONDITIONS = ("untargeted", "targeted", "adversarial")


@dataclass(frozen=True)
class SeedOutcome:
    """One condition trained and scored with one seed."""

    condition: str
    seed: int
    accuracy: float
    accuracy_cut: float
    n_synthetic: int
    n_requested: int
    teacher_calls: int = 0
    cache_hits: int = 0
    notes: list[str] = field(default_factory=list)
    n_synthetic_cut: int | None = None
    """Synthetic rows labelled with a cut intent (None in outcomes stored before it existed)."""
    label_precision: float | None = None
    """Share of the accepted synthetic rows whose label the oracle agrees with (None: none)."""
    label_precision_cut: float | None = None
    """The same over the rows labelled with a cut intent (None: none)."""


@dataclass(frozen=True)
class UtilityResult:
    """Every outcome of a run, the data protocol's figures and the settings that produced it."""

    mode: str
    outcomes: list[SeedOutcome]
    data: dict[str, Any]
    settings: dict[str, Any]
    seconds: float
    work_dir: Path


def adversarial_split(n: int, share: float) -> tuple[int, int]:
    """(N1, N2) of condition (d): N2 = round(share * n), both at least 1, N1 + N2 = n.

    Example:
        >>> adversarial_split(48, 0.5)
        (24, 24)
    """
    second = min(max(1, round(share * n)), n - 1)
    return n - second, second


class _TeacherSession:
    """The teacher started on first use (never when every outcome is cached) and the cache."""

    def __init__(self, config: UtilityExperimentConfig, work: Path) -> None:
        from factory.teacher.cache import ResponseCache

        self.config = config
        self.work = work
        self.stack = ExitStack()
        self.cache = self.stack.enter_context(ResponseCache(work / "teacher-responses.sqlite"))
        self._teacher: Teacher | None = None

    def get(self) -> Teacher:
        if self._teacher is None:
            from factory.teacher import start_teacher

            self._teacher = self.stack.enter_context(
                start_teacher(self.config.teacher_config(), Home(self.work).logs)
            )
        return self._teacher

    def close(self) -> None:
        self.stack.close()


@dataclass
class _Run:
    """One run's shared state."""

    config: UtilityExperimentConfig
    mode: Mode
    data: ExperimentData
    space: ExperimentSpace
    embedder: Embedder
    teacher: _TeacherSession
    work: Path
    progress: Progress | None

    @property
    def n(self) -> int:
        return self.config.mode(self.mode).n_synthetic

    def synthesis(self, seed: int) -> SynthesisConfig:
        base = self.config.synthesis
        if self.config.shares_synthesis(self.mode):
            return base
        return base.model_copy(update={"seed": base.seed + seed})

    def row_seed(self, seed: int) -> int:
        return self.config.cut_seed if self.config.shares_synthesis(self.mode) else seed

    @cached_property
    def oracle(self) -> Callable[[pl.DataFrame, np.ndarray], pl.DataFrame]:
        """The label oracle: a linear head on the uncut train split, seeded by `cut_seed`; it
        judges synthetic rows and never feeds the pipeline."""
        from factory.config import StudentConfig

        full = self.data.full_train
        vectors = self.space.full_train_vectors
        assert vectors is not None  # prepare_space embeds the uncut train split
        config = StudentConfig(backend="classifier", seed=self.config.cut_seed)
        key = fingerprint("oracle", full["doc_id"].to_list(), self.embedder.fingerprint)
        return train_student(
            full.select("text", "label"), vectors, self.data.validation, config,
            Home(self.work).students / "oracle" / key[:12], shared_models(),
        )  # fmt: skip

    def realize(
        self, targets: list[PlannedTarget], seed: int, tag: str
    ) -> tuple[pl.DataFrame, np.ndarray, dict[str, Any]]:
        """Synthesize `targets`: the accepted rows (text, label), their vectors, the stats."""
        from factory.synthesis import synthesize

        def step(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress(f"synthesis {tag}", done, total)

        result = synthesize(
            targets,
            self.space.train,
            self.embedder,
            self.teacher.get() if targets else None,
            self.synthesis(seed),
            self.config.teacher_config(),
            "classification",
            f"utility-{self.mode}-{tag}",
            cache=self.teacher.cache,
            progress=step,
        )
        return result.samples, result.vectors, result.stats

    def student(
        self,
        extra: list[tuple[pl.DataFrame, np.ndarray]],
        seed: int,
        tag: str,
        *,
        uncut: bool = False,
    ) -> Callable[[pl.DataFrame, np.ndarray], pl.DataFrame]:
        """The mode's student trained on train (the uncut train split when `uncut`) + the
        `extra` synthetic rows."""
        if uncut:
            full = self.data.full_train
            frames = [full.select("text", "label")]
            vectors = np.asarray(self.space.full_train_vectors)
        else:
            train = self.space.train
            frames = [pl.DataFrame({"text": train.texts, "label": train.labels})]
            vectors = train.vectors
        frames += [rows.select("text", "label") for rows, _ in extra]
        vectors = np.concatenate([vectors, *(v for _, v in extra)])
        student = self.config.mode(self.mode).student.model_copy(update={"seed": seed})
        if student.base_model:
            student = student.model_copy(
                update={"base_model": str(self.config.resolve(student.base_model))}
            )

        def step(done: int, total: int) -> None:
            if self.progress is not None:
                self.progress(f"student {tag}", done, total)

        return train_student(
            pl.concat(frames),
            vectors,
            self.data.validation,
            student,
            Home(self.work).students / self.mode / tag,
            shared_models(),
            step,
        )


def run_utility(
    config: UtilityExperimentConfig,
    mode: Mode = "quick",
    work_dir: Path | None = None,
    progress: Progress | None = None,
) -> UtilityResult:
    """Run every condition with every seed of `mode`; outcomes already in `work_dir` are read.

    `work_dir` defaults to `<home>/experiments/utility`; `progress(step, done, total)` reports
    embedding, mapping, each synthesis and each student.
    """
    from factory.embedding import create_embedder

    started = time.perf_counter()
    work = Path(work_dir) if work_dir is not None else Home(config.home_dir).experiments / "utility"
    work.mkdir(parents=True, exist_ok=True)
    settings = config.mode(mode)
    data = load_data(config)
    embedder = create_embedder(config.embedding)
    space = prepare_space(config, data, embedder, work, progress)
    teacher = _TeacherSession(config, work)
    run = _Run(config, mode, data, space, embedder, teacher, work, progress)
    outcomes = []
    try:
        total = len(settings.seeds) * len(CONDITIONS)
        for seed in settings.seeds:
            for condition in CONDITIONS:
                outcomes.append(_outcome(run, condition, seed))
                if progress is not None:
                    progress("runs", len(outcomes), total)
    finally:
        teacher.close()
    n1, n2 = adversarial_split(settings.n_synthetic, config.adversarial_share)
    return UtilityResult(
        mode=mode,
        outcomes=outcomes,
        data=data.summary(),
        settings={
            "mode": mode,
            "n_synthetic": settings.n_synthetic,
            "adversarial_split": [n1, n2],
            "seeds": settings.seeds,
            "student": settings.student.model_dump(mode="json"),
            "vary_synthesis_seed": config.vary_synthesis_seed,
            "shares_synthesis": config.shares_synthesis(mode),
            "teacher": config.teacher.model_dump(mode="json", exclude={"api_key_env"}),
            "synthesis": config.synthesis.model_dump(mode="json"),
            "gaps": config.gaps.model_dump(mode="json"),
            "embedder": embedder.fingerprint,
        },
        seconds=time.perf_counter() - started,
        work_dir=work,
    )


def _outcome(run: _Run, condition: str, seed: int) -> SeedOutcome:
    """The stored outcome of (condition, seed), else run it and store it."""
    config = run.config
    protocol = config.model_dump(mode="json", exclude={"home", "quick", "standard", "full"})
    key = fingerprint(
        UTILITY_CODE_VERSION,
        condition,
        seed,
        run.mode,
        protocol,
        config.mode(run.mode).model_dump(mode="json"),
        run.embedder.fingerprint,
        run.space.train.doc_ids,
    )
    tag = f"{condition}-seed{seed}-{key[:12]}"
    path = run.work / "runs" / run.mode / f"{tag}.json"
    if path.is_file():
        return SeedOutcome(**json.loads(path.read_text(encoding="utf-8")))
    extra, requested, stats, notes = _synthetic_rows(run, condition, seed, tag)
    score = run.student(extra, seed, tag, uncut=condition == "full_data")
    results = score(run.data.test, run.space.test_vectors)
    cut = results.filter(pl.col("reference").is_in(run.data.cut_intents))
    outcome = SeedOutcome(
        condition=condition,
        seed=seed,
        accuracy=float(results["correct"].mean()),  # type: ignore[arg-type]
        accuracy_cut=float(cut["correct"].mean()) if cut.height else float("nan"),  # type: ignore[arg-type]
        n_synthetic=sum(rows.height for rows, _ in extra),
        n_requested=requested,
        n_synthetic_cut=sum(
            int(rows["label"].is_in(run.data.cut_intents).sum()) for rows, _ in extra
        ),
        teacher_calls=sum(int(s.get("calls", 0)) for s in stats),
        cache_hits=sum(int(s.get("cache_hits", 0)) for s in stats),
        notes=notes,
        **_label_precision(run, extra),
    )
    if extra:
        samples = pl.concat([rows for rows, _ in extra], how="diagonal_relaxed")
        samples.write_parquet(path.with_name(f"{tag}-samples.parquet"), mkdir=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(outcome), indent=1) + "\n", encoding="utf-8")
    logger.info(
        "%s seed %d: accuracy %.4f, on cut intents %.4f, %d synthetic rows of %d requested",
        condition, seed, outcome.accuracy, outcome.accuracy_cut, outcome.n_synthetic, requested,
    )  # fmt: skip
    return outcome


def _synthetic_rows(
    run: _Run, condition: str, seed: int, tag: str
) -> tuple[list[tuple[pl.DataFrame, np.ndarray]], int, list[dict[str, Any]], list[str]]:
    """The condition's synthetic rows (frames with their vectors), N requested, stats, notes."""
    config, n = run.config, run.n
    if condition in ("train_only", "full_data"):
        return [], 0, [], []
    if condition == "untargeted":
        examples = config.synthesis.examples_in_prompt
        targets = untargeted_plan(run.space.train, n, run.row_seed(seed), examples)
        rows, vectors, stats = run.realize(targets, seed, tag)
        return [(rows, vectors)], len(targets), [stats], []
    if condition == "targeted":
        targets, found = gap_plan(run.space, config.gaps, run.synthesis(seed), n)
        rows, vectors, stats = run.realize(targets, seed, tag)
        return [(rows, vectors)], len(targets), [stats], _notes("gaps", found.notes, targets, n)
    n1, n2 = adversarial_split(n, config.adversarial_share)
    first, found = gap_plan(run.space, config.gaps, run.synthesis(seed), n1)
    rows1, vectors1, stats1 = run.realize(first, seed, f"{tag}-round1")
    notes = _notes("round 1 gaps", found.notes, first, n1)
    score = run.student([(rows1, vectors1)], seed, f"{tag}-round1")
    evaluation = score(run.data.validation, run.space.validation_vectors)
    failures = evaluation.select("doc_id", "correct")
    second, found2 = gap_plan(
        run.space, config.gaps, run.synthesis(seed), n2, round_number=2, evaluation=failures
    )
    rows2, vectors2, stats2 = run.realize(second, seed, f"{tag}-round2")
    failed = int((~failures["correct"]).sum())
    notes.append(f"round 1 student fails {failed} of {failures.height} validation rows")
    notes += _notes("failure gaps", found2.notes, second, n2)
    extra = [(rows1, vectors1), (rows2, vectors2)]
    return extra, len(first) + len(second), [stats1, stats2], notes


def _notes(what: str, notes: list[str], targets: list[PlannedTarget], budget: int) -> list[str]:
    out = [f"{what}: {note}" for note in notes]
    if len(targets) < budget:
        gaps = len({t.gap_id for t in targets})
        out.append(f"{what}: {len(targets)} targets of {budget} requested ({gaps} gaps found)")
    return out


def label_precision(labels: list[str], predicted: list[str]) -> float | None:
    """Share of `labels` equal to the oracle's `predicted` label (None for no rows).

    Example:
        >>> label_precision(["card", "top_up", "card"], ["card", "card", "card"])
        0.6666666666666666
    """
    if len(labels) != len(predicted):
        msg = f"{len(labels)} labels but {len(predicted)} oracle predictions; align them"
        raise ValueError(msg)
    if not labels:
        return None
    return sum(a == b for a, b in zip(labels, predicted, strict=True)) / len(labels)


def _label_precision(
    run: _Run, extra: list[tuple[pl.DataFrame, np.ndarray]]
) -> dict[str, float | None]:
    """The oracle's agreement with the synthetic rows' labels, over all and over cut intents."""
    if not extra or not sum(rows.height for rows, _ in extra):
        return {"label_precision": None, "label_precision_cut": None}
    rows = pl.concat([r.select("text", "label") for r, _ in extra])
    vectors = np.concatenate([v for _, v in extra])
    frame = rows.with_columns(
        doc_id=pl.int_range(pl.len()).cast(pl.String), split=pl.lit("synthetic")
    )
    judged = run.oracle(frame, vectors)
    labels, predicted = rows["label"].to_list(), judged["prediction"].to_list()
    cut = [i for i, label in enumerate(labels) if label in run.data.cut_intents]
    return {
        "label_precision": label_precision(labels, predicted),
        "label_precision_cut": label_precision(
            [labels[i] for i in cut], [predicted[i] for i in cut]
        ),
    }
