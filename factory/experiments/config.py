"""The utility experiment's configuration file, as pydantic models (`examples/utility.yaml`).

Every value the protocol depends on (the cut, N, the seeds, the student's steps) is fixed here
before any run; the sections `embedding`, `map`, `gaps`, `synthesis`, `teacher` and the
per-mode `student` are the project's own config models, so they mean what they mean in
`factory.yaml`.

Example:
    >>> cfg = UtilityExperimentConfig.from_dict({"data": {"train_path": "t.csv",
    ...     "test_path": "s.csv"}})
    >>> cfg.cut_intents, cfg.keep_fraction, cfg.quick.student.backend
    (10, 0.1, 'classifier')
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from factory.config import (
    ConfigFile,
    EmbeddingConfig,
    GapsConfig,
    MapConfig,
    StrictModel,
    StudentConfig,
    SynthesisConfig,
    TeacherConfig,
    read_yaml_mapping,
)

__all__ = [
    "MODES",
    "UtilityDataConfig",
    "UtilityExperimentConfig",
    "UtilityModeConfig",
    "load_experiment_config",
]

Mode = Literal["quick", "standard", "full"]
MODES: tuple[Mode, ...] = ("quick", "standard", "full")


class UtilityDataConfig(StrictModel):
    """Where banking77 lies and which columns hold the text and the intent."""

    train_path: str = Field(
        description="banking77 train.csv, relative to the config file; the reference sample, "
        "the validation part and the train split are all drawn from it."
    )
    test_path: str = Field(
        description="banking77 test.csv, relative to the config file; used only to report "
        "accuracy, never for training, gaps or failures."
    )
    text_field: str = Field("text", description="Column holding the message text.")
    label_field: str = Field("category", description="Column holding the intent label.")


class UtilityModeConfig(StrictModel):
    """What one mode (quick, standard or full) runs: N, the seeds and the student."""

    n_synthetic: int = Field(
        ge=2, description="N: synthetic rows requested in each of conditions (b), (c) and (d)."
    )
    seeds: list[int] = Field(
        min_length=1,
        description="Seeds; each trains every condition's student once (and reseeds synthesis "
        "when vary_synthesis_seed is true). The intervals are over these runs.",
    )
    student: StudentConfig = Field(description="The student trained in every condition.")
    share_synthesis: bool = Field(
        False,
        description="One synthesis per condition serves every seed (the seeds then vary only "
        "the student's training, and the intervals cover training randomness only); false: "
        "vary_synthesis_seed decides.",
    )

    @model_validator(mode="after")
    def _unique_seeds(self) -> UtilityModeConfig:
        if len(set(self.seeds)) != len(self.seeds):
            msg = f"seeds must be distinct, got {self.seeds}; list each seed once"
            raise ValueError(msg)
        return self


def _quick() -> UtilityModeConfig:
    return UtilityModeConfig(
        n_synthetic=32, seeds=[0, 1, 2], student=StudentConfig(backend="classifier")
    )


def _standard() -> UtilityModeConfig:
    return UtilityModeConfig(
        n_synthetic=300,
        seeds=[0, 1, 2],
        student=StudentConfig(backend="classifier"),
        share_synthesis=True,
    )


def _full() -> UtilityModeConfig:
    return UtilityModeConfig(
        n_synthetic=400,
        seeds=[0, 1, 2],
        student=StudentConfig(backend="llm", max_steps=1500, batch_size=16, max_length=64),
    )


def _gaps() -> GapsConfig:
    return GapsConfig(kinds=["coverage"])


def _synthesis() -> SynthesisConfig:
    return SynthesisConfig(candidates_per_target=2, correction_rounds=0, concurrency=4)


def _teacher() -> TeacherConfig:
    return TeacherConfig(max_tokens=48)


class UtilityExperimentConfig(ConfigFile):
    """The whole utility-experiment file."""

    _label: ClassVar[str] = "experiment config"

    home: str = Field(
        ".factory-utility",
        description="Output home, relative to the config file; the work folder defaults to "
        "<home>/experiments/utility.",
    )
    data: UtilityDataConfig = Field(description="The banking77 files.")
    cut_intents: int = Field(10, ge=1, description="Intents whose train rows are cut.")
    keep_fraction: float = Field(
        0.1, gt=0.0, lt=1.0, description="Share of a cut intent's train rows kept (at least 1)."
    )
    cut_seed: int = Field(
        0,
        description="Seed of the data protocol: the reference, validation and train parts and "
        "which intents are cut; the same for every condition and seed.",
    )
    reference_size: int = Field(
        1000,
        ge=1,
        description="Unlabelled reference sample drawn from train.csv before the cut (the "
        "stand-in for a team's production queries); never trained on, never shown to the "
        "teacher; rows whose text is also in test.csv are never drawn.",
    )
    validation_size: int = Field(
        1000,
        ge=1,
        description="Labelled held-out rows drawn from train.csv before the cut; where the "
        "adversarial round finds the student's failures.",
    )
    adversarial_share: float = Field(
        0.5,
        gt=0.0,
        lt=1.0,
        description="Condition (d): share of N spent in the adversarial round; the rest "
        "fills the reference gaps of its first round, so (d) also requests N rows in all.",
    )
    vary_synthesis_seed: bool = Field(
        True,
        description="Seed s also reseeds synthesis (synthesis.seed + s, and the random rows of "
        "(b)), so the intervals cover which synthetic rows come out, not only student training.",
    )
    quick: UtilityModeConfig = Field(
        default_factory=_quick,
        description="--quick: the light classifier student, a small N (a CI smoke run).",
    )
    standard: UtilityModeConfig = Field(
        default_factory=_standard,
        description="--standard: the light classifier student and an N large enough to matter "
        "(a third of the rows the cut removed), one synthesis shared by the seeds; meant to "
        "fit an hour on 2 cores.",
    )
    full: UtilityModeConfig = Field(
        default_factory=_full, description="The full run: the causal-LM student (for a GPU)."
    )
    embedding: EmbeddingConfig = Field(
        default_factory=EmbeddingConfig, description="Embedding model."
    )
    map: MapConfig = Field(
        default_factory=MapConfig, description="Semantic map of the train split."
    )
    gaps: GapsConfig = Field(
        default_factory=_gaps,
        description="Gap finding for condition (c) (coverage against the reference by default); "
        "total_budget is set by the experiment from N.",
    )
    synthesis: SynthesisConfig = Field(
        default_factory=_synthesis, description="Synthesis, the same in (b), (c) and (d)."
    )
    teacher: TeacherConfig = Field(
        default_factory=_teacher, description="The one teacher of every condition."
    )

    @model_validator(mode="after")
    def _check_protocol(self) -> UtilityExperimentConfig:
        for name in ("quick", "standard"):
            backend = self.mode(name).student.backend  # type: ignore[arg-type]
            if backend != "classifier":
                msg = (
                    f"{name}.student.backend must be 'classifier' (the light student), got "
                    f"{backend!r}; put the causal-LM student under full"
                )
                raise ValueError(msg)
        if "total_budget" in self.gaps.model_fields_set:
            msg = (
                f"gaps.total_budget ({self.gaps.total_budget}) is set by the experiment from "
                "n_synthetic; remove it"
            )
            raise ValueError(msg)
        return self

    def mode(self, name: Mode) -> UtilityModeConfig:
        """The settings of mode `name`."""
        return {"quick": self.quick, "standard": self.standard, "full": self.full}[name]

    def shares_synthesis(self, name: Mode) -> bool:
        """Whether every seed of mode `name` reuses one synthesis (seeds vary training only)."""
        return self.mode(name).share_synthesis or not self.vary_synthesis_seed

    def teacher_config(self) -> TeacherConfig:
        """The teacher section with a relative `model_path` resolved against the config file."""
        if not self.teacher.model_path:
            return self.teacher
        return self.teacher.model_copy(
            update={"model_path": str(self.resolve(self.teacher.model_path))}
        )


def load_experiment_config(path: str | Path) -> UtilityExperimentConfig:
    """Read a utility-experiment YAML file.

    Example:
        >>> cfg = load_experiment_config("examples/utility.yaml")  # doctest: +SKIP
        >>> cfg.quick.n_synthetic  # doctest: +SKIP
        32
    """
    file, data = read_yaml_mapping(path, "experiment config", "pass --config examples/utility.yaml")
    return UtilityExperimentConfig.from_dict(data, base_dir=file.parent)
