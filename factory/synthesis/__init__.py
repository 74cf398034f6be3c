"""Synthesis layer: the plan of targets, three techniques, prompts, parsing and the run.

Example:
    >>> from factory.config import SynthesisConfig, TeacherConfig
    >>> plan = build_plan(gaps, train, SynthesisConfig(), "classification")  # doctest: +SKIP
    >>> result = synthesize(plan, train, embedder, teacher, SynthesisConfig(),  # doctest: +SKIP
    ...     TeacherConfig(), task_kind="classification", run_id="r1")
    >>> result.stats["accepted"] + result.stats["rejected"]  # doctest: +SKIP
    90
"""

from __future__ import annotations

from factory.synthesis.answers import ANSWER_MODELS, answer_schema, parse_answer
from factory.synthesis.estimate import PlanEstimate, estimate_plan
from factory.synthesis.parsing import Parsed, clean_text, parse_completion, parse_qa
from factory.synthesis.plan import (
    METHODS,
    STAGES,
    PlannedTarget,
    TrainSet,
    build_plan,
    majority_label,
    plan_frame,
    targets_from_frame,
)
from factory.synthesis.prompts import (
    PROMPTS,
    Example,
    PromptTemplate,
    build_messages,
    correction_messages,
    delimit,
    prompt_template_hash,
    template_for,
)
from factory.synthesis.realize import (
    RunContext,
    SynthesisResult,
    SynthesisStats,
    realize_target,
    reject_row,
    result_frames,
    sampling_params,
)
from factory.synthesis.run import make_budget, run_coroutine, synthesize
from factory.synthesis.steer import attribute_direction, displacement, steered
from factory.synthesis.targets import (
    DEFAULT_SPREAD,
    derive_seed,
    interpolation_alphas,
    interpolation_targets,
    nearest,
)
from factory.synthesis.verify import LabelVerifier, copy_or_leak, instruction_text, shared_run

__all__ = [
    "ANSWER_MODELS",
    "DEFAULT_SPREAD",
    "METHODS",
    "PROMPTS",
    "STAGES",
    "Example",
    "LabelVerifier",
    "Parsed",
    "PlanEstimate",
    "PlannedTarget",
    "PromptTemplate",
    "RunContext",
    "SynthesisResult",
    "SynthesisStats",
    "TrainSet",
    "answer_schema",
    "attribute_direction",
    "build_messages",
    "build_plan",
    "clean_text",
    "copy_or_leak",
    "correction_messages",
    "delimit",
    "derive_seed",
    "displacement",
    "estimate_plan",
    "instruction_text",
    "interpolation_alphas",
    "interpolation_targets",
    "majority_label",
    "make_budget",
    "nearest",
    "parse_answer",
    "parse_completion",
    "parse_qa",
    "plan_frame",
    "prompt_template_hash",
    "realize_target",
    "reject_row",
    "result_frames",
    "run_coroutine",
    "sampling_params",
    "shared_run",
    "steered",
    "synthesize",
    "targets_from_frame",
    "template_for",
]
