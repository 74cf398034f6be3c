"""Experiments that measure what the factory's parts are worth; first, the utility experiment.

Example:
    >>> cfg = load_experiment_config("examples/utility.yaml")  # doctest: +SKIP
    >>> result = run_utility(cfg, "quick")  # doctest: +SKIP
    >>> print(markdown_report(summarize(result.outcomes)))  # doctest: +SKIP
"""

from __future__ import annotations

from factory.experiments.config import (
    UtilityDataConfig,
    UtilityExperimentConfig,
    UtilityModeConfig,
    load_experiment_config,
)
from factory.experiments.data import ExperimentData, labelled_rows, load_data, split_and_cut
from factory.experiments.intervals import Interval, t_interval
from factory.experiments.plans import UNTARGETED, gap_plan, untargeted_plan
from factory.experiments.report import (
    ConditionSummary,
    UtilityReport,
    markdown_report,
    plot_conditions,
    result_json,
    summarize,
    write_json,
    write_report,
)
from factory.experiments.space import ExperimentSpace, prepare_space
from factory.experiments.students import STUDENT_BACKENDS, Scorer, train_student
from factory.experiments.utility import (
    CONDITION_LABELS,
    CONDITIONS,
    UTILITY_CODE_VERSION,
    SeedOutcome,
    UtilityResult,
    adversarial_split,
    run_utility,
)

__all__ = [
    "CONDITIONS",
    "CONDITION_LABELS",
    "STUDENT_BACKENDS",
    "UNTARGETED",
    "UTILITY_CODE_VERSION",
    "ConditionSummary",
    "ExperimentData",
    "ExperimentSpace",
    "Interval",
    "Scorer",
    "SeedOutcome",
    "UtilityDataConfig",
    "UtilityExperimentConfig",
    "UtilityModeConfig",
    "UtilityReport",
    "UtilityResult",
    "adversarial_split",
    "gap_plan",
    "labelled_rows",
    "load_data",
    "load_experiment_config",
    "markdown_report",
    "plot_conditions",
    "prepare_space",
    "result_json",
    "run_utility",
    "split_and_cut",
    "summarize",
    "t_interval",
    "train_student",
    "untargeted_plan",
    "write_json",
    "write_report",
]
