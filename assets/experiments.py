"""Experiments layer: `utility_experiment`, does gap targeting pay (docs/experiments.md)."""

import os

import dagster as dg
from pydantic import Field

from assets.metadata_images import image_metadata

__all__ = [
    "EXPERIMENT_CONFIG_ENV",
    "UTILITY_EXPERIMENT_CODE_VERSION",
    "ExperimentResource",
    "UtilityExperimentRunConfig",
    "utility_experiment",
]

UTILITY_EXPERIMENT_CODE_VERSION = "utility-experiment-v1"
EXPERIMENT_CONFIG_ENV = "FACTORY_EXPERIMENT_CONFIG"


class ExperimentResource(dg.ConfigurableResource):
    """Which experiment file the `utility_experiment` asset runs, and where it works.

    Both are pinned where the definitions are built ($FACTORY_EXPERIMENT_CONFIG, else
    examples/utility.yaml; the work folder from the experiment's own `home`): resource
    dependencies, not config, so the launchpad can neither read another YAML on the host nor
    write elsewhere. The launchpad chooses only the mode."""

    config_path: dg.ResourceDependency[str | None] = Field(
        None,
        description="The utility-experiment YAML, pinned when the definitions are built; when "
        "unset, $FACTORY_EXPERIMENT_CONFIG, then examples/utility.yaml.",
    )
    work_dir: dg.ResourceDependency[str | None] = Field(
        None,
        description="Work folder, pinned when the definitions are built; when unset, "
        "<home>/experiments/utility of the experiment config.",
    )

    @property
    def path(self) -> str:
        """The experiment file this resource runs."""
        return self.config_path or os.environ.get(EXPERIMENT_CONFIG_ENV) or "examples/utility.yaml"


class UtilityExperimentRunConfig(dg.Config):
    """Which mode to run (the file and the work folder are the `experiment` resource's)."""

    quick: bool = Field(
        True, description="The light classifier student and a small N (a smoke run, 2 cores)."
    )
    standard: bool = Field(
        False,
        description="The light classifier student and an N large enough to matter (about an "
        "hour on 2 cores); wins over quick. Neither: the full run (for a GPU).",
    )


@dg.asset(group_name="experiments", code_version=UTILITY_EXPERIMENT_CODE_VERSION)
def utility_experiment(
    context: dg.AssetExecutionContext,
    config: UtilityExperimentRunConfig,
    experiment: ExperimentResource,
) -> dg.MaterializeResult:
    """Train-only vs + untargeted vs + gap-targeted vs + adversarial synthetic rows vs the full
    data, with intents cut: accuracy, accuracy and gap closure on the cut intents, 95% intervals."""
    from pathlib import Path

    from factory.experiments import load_experiment_config, run_utility, write_report

    settings = load_experiment_config(experiment.path)
    mode = "standard" if config.standard else "quick" if config.quick else "full"
    shown: dict[str, int] = {}

    def progress(step: str, done: int, total: int) -> None:
        if done == total or done - shown.get(step, 0) >= max(1, total // 10):
            shown[step] = done
            context.log.info(f"{step}: {done}/{total}")

    work = Path(experiment.work_dir) if experiment.work_dir else None
    result = run_utility(settings, mode, work, progress)
    report = write_report(result)
    context.log.info(f"utility experiment ({mode}):\n{report.table}")
    image = image_metadata(report.plot_path, "accuracy per condition")
    return dg.MaterializeResult(
        metadata={
            "table": dg.MetadataValue.md(report.table),
            "plot": image["map"],
            "plot_path": image["map_path"],
            "json_path": dg.MetadataValue.path(str(report.json_path)),
            "mode": mode,
            "seeds": dg.MetadataValue.json(result.settings["seeds"]),
            "n_synthetic": result.settings["n_synthetic"],
            "cut_intents": dg.MetadataValue.json(result.data["cut_intents"]),
            "seconds": round(result.seconds, 1),
        }
    )
