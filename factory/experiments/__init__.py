"""Experiments that measure what the factory's parts are worth; first, the utility experiment.

Example:
    >>> cfg = load_experiment_config("examples/utility.yaml")  # doctest: +SKIP
    >>> result = run_utility(cfg, "quick")  # doctest: +SKIP
    >>> print(markdown_report(summarize(result.outcomes)))  # doctest: +SKIP
"""

from __future__ import annotations

from factory.experiments.config import UtilityExperimentConfig, load_experiment_config
from factory.experiments.report import markdown_report, summarize, write_report
from factory.experiments.utility import CONDITIONS, UtilityResult, run_utility

__all__ = [
    "CONDITIONS",
    "UtilityExperimentConfig",
    "UtilityResult",
    "load_experiment_config",
    "markdown_report",
    "run_utility",
    "summarize",
    "write_report",
]
