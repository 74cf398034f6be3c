"""Synthesis layer: prompts, answer parsing, targets and the interpolate + invert technique.

Example:
    >>> from factory.config import SynthesisConfig, TeacherConfig
    >>> result = synthesize_interpolations(gaps, docs, embedder, teacher,  # doctest: +SKIP
    ...     SynthesisConfig(), TeacherConfig(), task_kind="classification", run_id="r1")
    >>> result.stats["accepted"] + result.stats["rejected"]  # doctest: +SKIP
    90
"""

from __future__ import annotations

from factory.synthesis.interpolate import majority_label, synthesize_interpolations
from factory.synthesis.parsing import Parsed, clean_text, parse_completion, parse_qa
from factory.synthesis.prompts import (
    PROMPTS,
    Example,
    PromptTemplate,
    build_messages,
    delimit,
    prompt_template_hash,
    template_for,
)
from factory.synthesis.realize import (
    RunContext,
    SynthesisResult,
    SynthesisStats,
    TargetJob,
    realize_target,
    reject_row,
    result_frames,
    sampling_params,
)
from factory.synthesis.targets import (
    DEFAULT_SPREAD,
    derive_seed,
    interpolation_alphas,
    interpolation_targets,
    nearest,
)

__all__ = [
    "DEFAULT_SPREAD",
    "PROMPTS",
    "Example",
    "Parsed",
    "PromptTemplate",
    "RunContext",
    "SynthesisResult",
    "SynthesisStats",
    "TargetJob",
    "build_messages",
    "clean_text",
    "delimit",
    "derive_seed",
    "interpolation_alphas",
    "interpolation_targets",
    "majority_label",
    "nearest",
    "parse_completion",
    "parse_qa",
    "prompt_template_hash",
    "realize_target",
    "reject_row",
    "result_frames",
    "sampling_params",
    "synthesize_interpolations",
    "template_for",
]
