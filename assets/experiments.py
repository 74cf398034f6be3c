"""Experiments layer: `utility_experiment`, does gap targeting pay (docs/experiments.md)."""

import dagster as dg
from pydantic import Field

from assets.metadata_images import image_metadata

__all__ = ["UTILITY_EXPERIMENT_CODE_VERSION", "UtilityExperimentRunConfig", "utility_experiment"]

UTILITY_EXPERIMENT_CODE_VERSION = "utility-experiment-v1"


class UtilityExperimentRunConfig(dg.Config):
    """Which experiment file to run, in which mode, where."""

    config_path: str = Field(
        "examples/utility.yaml", description="The utility-experiment YAML file."
    )
    quick: bool = Field(
        True, description="The light classifier student and the quick N (2 cores, < 30 min)."
    )
    work_dir: str | None = Field(
        None, description="Work folder; default <home>/experiments/utility of the config."
    )


@dg.asset(group_name="experiments", code_version=UTILITY_EXPERIMENT_CODE_VERSION)
def utility_experiment(
    context: dg.AssetExecutionContext, config: UtilityExperimentRunConfig
) -> dg.MaterializeResult:
    """Train-only vs + untargeted vs + gap-targeted vs + adversarial synthetic rows, on banking77
    with 10 intents cut: accuracy and accuracy on the cut intents with 95% intervals."""
    from pathlib import Path

    from factory.experiments import load_experiment_config, run_utility, write_report

    experiment = load_experiment_config(config.config_path)
    mode = "quick" if config.quick else "full"
    shown: dict[str, int] = {}

    def progress(step: str, done: int, total: int) -> None:
        if done == total or done - shown.get(step, 0) >= max(1, total // 10):
            shown[step] = done
            context.log.info(f"{step}: {done}/{total}")

    work = Path(config.work_dir) if config.work_dir else None
    result = run_utility(experiment, mode, work, progress)
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
