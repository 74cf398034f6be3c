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

from factory.synthesis.answers import answer_schema
from factory.synthesis.estimate import PlanEstimate, estimate_configured_plan, estimate_plan
from factory.synthesis.plan import PlannedTarget, build_plan, plan_frame, targets_from_frame
from factory.synthesis.prompts import Example, build_messages, prompt_template_hash
from factory.synthesis.realize import SynthesisResult
from factory.synthesis.run import synthesis_params, synthesize, synthesize_cached
from factory.synthesis.targets import derive_seed, nearest
from factory.synthesis.train_set import TrainSet

__all__ = [
    "Example",
    "PlanEstimate",
    "PlannedTarget",
    "SynthesisResult",
    "TrainSet",
    "answer_schema",
    "build_messages",
    "build_plan",
    "derive_seed",
    "estimate_configured_plan",
    "estimate_plan",
    "nearest",
    "plan_frame",
    "prompt_template_hash",
    "synthesis_params",
    "synthesize",
    "synthesize_cached",
    "targets_from_frame",
]
