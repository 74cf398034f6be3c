"""What a synthesis plan will cost before a single call: calls, tokens, cache hits, the cap.

The first round of every target is known exactly (its prompts are built here, and counted with
the teacher's own tokenizer when its weights are local); correction rounds only happen for
targets that are not yet close enough, so the estimate gives the first round and the worst case.

`estimate_configured_plan` is the dry run of a project: the teacher's own tokenizer when its
weights are local, and cache hits counted in the project's teacher cache.

Example:
    >>> estimate = estimate_plan(plan, train, config, teacher_config, "text")  # doctest: +SKIP
    >>> print(estimate.describe())  # doctest: +SKIP
    80 targets: 160 calls in the first round (0 cached), at most 320 with corrections ...
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from factory.config import FactoryConfig, SynthesisConfig, TeacherConfig
from factory.home import Home
from factory.synthesis.answers import answer_schema
from factory.synthesis.plan import PlannedTarget
from factory.synthesis.prompts import Example, build_messages, correction_messages
from factory.synthesis.targets import derive_seed
from factory.synthesis.train_set import TrainSet
from factory.teacher.budget import Prices, estimate_tokens
from factory.teacher.cache import ResponseCache
from factory.teacher.calls import (
    SampleRequest,
    learned_response_format,
    prompt_estimate,
    request_key,
)
from factory.teacher.launch import local_token_counter

__all__ = ["PlanEstimate", "estimate_configured_plan", "estimate_plan"]


@dataclass(frozen=True)
class PlanEstimate:
    """Calls and tokens a plan needs: first round exactly, correction rounds at most."""

    targets: int
    first_round_calls: int
    cached_calls: int
    max_calls: int
    first_round_prompt_tokens: int
    max_prompt_tokens: int
    max_completion_tokens: int
    max_run_tokens: int | None
    max_cost: float | None
    tokenizer: str
    by_method: dict[str, int] = field(default_factory=dict)
    by_stage: dict[str, int] = field(default_factory=dict)

    @property
    def max_tokens(self) -> int:
        """Worst case of prompt plus completion tokens."""
        return self.max_prompt_tokens + self.max_completion_tokens

    def as_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "targets": self.targets,
            "first_round_calls": self.first_round_calls,
            "cached_calls": self.cached_calls,
            "max_calls": self.max_calls,
            "first_round_prompt_tokens": self.first_round_prompt_tokens,
            "max_prompt_tokens": self.max_prompt_tokens,
            "max_completion_tokens": self.max_completion_tokens,
            "max_tokens": self.max_tokens,
            "max_run_tokens": self.max_run_tokens,
            "max_cost": self.max_cost,
            "tokenizer": self.tokenizer,
            "by_method": dict(self.by_method),
            "by_stage": dict(self.by_stage),
        }

    def describe(self) -> str:
        """A few lines for the terminal."""
        lines = [
            f"{self.targets} targets ({_counts(self.by_method)}; stages {_counts(self.by_stage)})",
            f"teacher calls: {self.first_round_calls} in the first round, "
            f"{self.cached_calls} of them already cached; at most {self.max_calls} with "
            "correction rounds",
            f"tokens ({self.tokenizer}): {self.first_round_prompt_tokens:,} prompt tokens in the "
            f"first round; at most {self.max_tokens:,} in all "
            f"({self.max_prompt_tokens:,} prompt + {self.max_completion_tokens:,} completion)",
        ]
        if self.max_cost is not None:
            lines.append(f"cost: at most {self.max_cost:.4f}")
        if self.max_run_tokens is not None:
            verdict = "fits" if self.max_tokens <= self.max_run_tokens else "may stop at"
            lines.append(f"cap: the worst case {verdict} the cap of {self.max_run_tokens:,} tokens")
        return "\n".join(lines)


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.items()) or "none"


def estimate_plan(
    targets: list[PlannedTarget],
    train: TrainSet,
    config: SynthesisConfig,
    teacher: TeacherConfig,
    task_kind: str,
    cache: ResponseCache | None = None,
    teacher_fingerprint: str | None = None,
    response_format: str | None = None,
    count_tokens: Callable[[str], int] | None = None,
    tokenizer: str = "3 characters per token",
) -> PlanEstimate:
    """Estimate `targets`; cache hits are counted when the teacher's fingerprint is known."""
    count = count_tokens or estimate_tokens
    rows = train.row_of()
    schema = answer_schema(task_kind)
    mode = response_format or teacher.response_format
    mode = "json_schema" if mode == "auto" else mode
    n = config.candidates_per_target
    first_calls = cached = first_prompt = max_prompt = 0
    keys: list[str] = []
    for target in targets:
        examples = [
            Example(train.texts[rows[d]], train.answers[rows[d]]) for d in target.parent_doc_ids
        ]
        messages = build_messages(task_kind, examples, label=target.label, style=config.realization)
        prompt = prompt_estimate(messages, count)
        attempt = '{"text": "' + "x " * teacher.max_tokens + '"}'
        corrected = prompt_estimate(
            correction_messages(task_kind, messages, attempt, 0.5, 0.9, config.realization),
            count,
        )
        first_calls += n
        first_prompt += n * prompt
        max_prompt += n * (prompt + config.correction_rounds * corrected)
        if teacher_fingerprint is not None and cache is not None:
            for c in range(n):
                seed = derive_seed(config.seed, target.target_id, 0, c)
                request = SampleRequest(
                    messages, teacher.temperature, teacher.top_p, teacher.max_tokens, seed, schema
                )
                keys.append(request_key(teacher_fingerprint, mode, request))
    if keys and cache is not None:
        cached = len(cache.contains(keys))
    max_calls = first_calls * (1 + config.correction_rounds)
    prices = Prices(teacher.prompt_price_per_million, teacher.completion_price_per_million)
    max_completion = max_calls * teacher.max_tokens
    return PlanEstimate(
        targets=len(targets),
        first_round_calls=first_calls,
        cached_calls=cached,
        max_calls=max_calls,
        first_round_prompt_tokens=first_prompt,
        max_prompt_tokens=max_prompt,
        max_completion_tokens=max_completion,
        max_run_tokens=config.max_run_tokens,
        max_cost=prices.cost(max_prompt, max_completion) if prices.configured else None,
        tokenizer=tokenizer,
        by_method=dict(sorted(Counter(t.method for t in targets).items())),
        by_stage=dict(Counter(t.stage_name for t in targets)),
    )


def estimate_configured_plan(
    config: FactoryConfig,
    targets: list[PlannedTarget],
    train: TrainSet,
    teacher_fingerprint: str | None = None,
) -> PlanEstimate:
    """The dry-run estimate of `targets` for project `config`: tokens counted with the teacher's
    tokenizer when its weights are local, cache hits looked up in the project's teacher cache
    (when `synthesis.cache` is on, the cache exists and `teacher_fingerprint` is known)."""
    teacher = config.teacher
    count = local_token_counter(teacher) if targets else None
    path = Home.of(config).teacher_cache
    cache = ResponseCache(path) if config.synthesis.cache and path.exists() else None
    try:
        return estimate_plan(
            targets,
            train,
            config.synthesis,
            teacher,
            config.task.kind,
            cache=cache,
            teacher_fingerprint=teacher_fingerprint,
            response_format=(
                learned_response_format(cache, teacher_fingerprint) if teacher_fingerprint else None
            ),
            count_tokens=count,
            tokenizer="teacher tokenizer" if count else "3 characters per token",
        )
    finally:
        if cache is not None:
            cache.close()
