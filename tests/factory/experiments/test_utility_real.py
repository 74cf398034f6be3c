"""The utility protocol end to end on a banking77 slice: real MiniLM, real SmolLM2 teacher on
llama.cpp, the light classifier student; then reruns from the work folder (stored outcomes, then
the teacher cache alone) and the Dagster asset on the same work folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml

from factory.experiments import (
    CONDITIONS,
    UtilityExperimentConfig,
    load_experiment_config,
    markdown_report,
    run_utility,
    summarize,
)

INTENTS = 6
TRAIN_PER_INTENT = 45
TEST_PER_INTENT = 12


def _slice(source: Path, out: Path, per_intent: int) -> Path:
    rows = pl.read_csv(source)
    labels = sorted(rows["category"].unique().to_list())[:INTENTS]
    part = (
        rows.filter(pl.col("category").is_in(labels))
        .group_by("category", maintain_order=True)
        .head(per_intent)
    )
    part.write_csv(out)
    return out


@pytest.fixture(scope="module")
def config_path(banking77_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    try:
        from factory.models import smollm2_gguf_path

        smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")
    folder = tmp_path_factory.mktemp("utility")
    train = _slice(banking77_dir / "train.csv", folder / "train.csv", TRAIN_PER_INTENT)
    test = _slice(banking77_dir / "test.csv", folder / "test.csv", TEST_PER_INTENT)
    data = {
        "home": str(folder / "home"),
        "data": {"train_path": str(train), "test_path": str(test)},
        "cut_intents": 2,
        "keep_fraction": 0.1,
        "reference_size": 40,
        "validation_size": 60,
        "quick": {"n_synthetic": 4, "seeds": [0], "student": {"backend": "classifier",
                                                               "head_epochs": 20}},
        "map": {"min_cluster_size": 5, "n_neighbors": 10},
        "gaps": {"kinds": ["coverage"], "min_support": 2},
        "synthesis": {"candidates_per_target": 2, "correction_rounds": 0, "concurrency": 2},
    }  # fmt: skip
    path = folder / "utility.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_every_condition_measured_and_a_rerun_calls_no_teacher(
    config_path: Path, tmp_path: Path
) -> None:
    config: UtilityExperimentConfig = load_experiment_config(config_path)
    work = tmp_path / "work"
    steps: set[str] = set()
    result = run_utility(config, "quick", work, lambda step, done, total: steps.add(step))
    by_condition = {o.condition: o for o in result.outcomes}
    assert list(by_condition) == list(CONDITIONS)
    assert len(result.data["cut_intents"]) == 2
    for rows in result.data["cut_rows_after"].values():
        assert rows <= 4  # 10% of about 30 train rows (at least 1)
    assert by_condition["train_only"].n_requested == 0
    assert by_condition["full_data"].n_requested == 0
    assert by_condition["untargeted"].n_requested == 4
    for name in ("untargeted", "targeted", "adversarial"):  # the oracle judged every row
        outcome = by_condition[name]
        if outcome.n_synthetic:
            assert outcome.label_precision is not None
            assert 0.0 <= outcome.label_precision <= 1.0
    for outcome in result.outcomes:
        assert 0.0 <= outcome.accuracy <= 1.0
        assert 0.0 <= outcome.accuracy_cut <= 1.0
        assert outcome.n_synthetic <= outcome.n_requested <= 4
        assert outcome.n_synthetic_cut is not None
        assert outcome.n_synthetic_cut <= outcome.n_synthetic
    assert by_condition["untargeted"].teacher_calls > 0
    assert {"embed", "map", "runs"} <= steps
    table = markdown_report(summarize(result.outcomes))
    assert table.count("\n") == 1 + len(CONDITIONS)

    # the same work folder: every outcome is read back
    again = run_utility(config, "quick", work)
    assert again.outcomes == result.outcomes
    # outcomes deleted, teacher cache kept: the same rows come back without a teacher call
    shutil.rmtree(work / "runs")
    replay = run_utility(config, "quick", work)
    for first, second in zip(result.outcomes, replay.outcomes, strict=True):
        assert second.teacher_calls == 0
        assert second.cache_hits == first.teacher_calls + first.cache_hits
        assert (second.accuracy, second.n_synthetic) == (first.accuracy, first.n_synthetic)

    # the asset on the same work folder: thin, it reads the outcomes and reports them
    import dagster as dg

    from assets.experiments import ExperimentResource, utility_experiment

    pinned = ExperimentResource(config_path=str(config_path), work_dir=str(work))
    run = dg.materialize(
        [utility_experiment],
        resources={"experiment": pinned},
        run_config={"ops": {"utility_experiment": {"config": {"quick": True}}}},
    )
    assert run.success
    metadata = run.asset_materializations_for_node("utility_experiment")[0].metadata
    assert str(metadata["table"].value).startswith(table)
    assert "Intervals cover training and synthesis randomness" in str(metadata["table"].value)
    assert Path(str(metadata["json_path"].value)).is_file()
    assert str(metadata["plot"].value).startswith(
        "![accuracy per condition](data:image/png;base64,"
    )
