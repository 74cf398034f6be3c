"""The experiment config: the shipped example, and errors that name the bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from factory.errors import ConfigError
from factory.experiments import UtilityExperimentConfig, load_experiment_config
from tests.fixtures.paths import REPO

DATA = {"data": {"train_path": "train.csv", "test_path": "test.csv"}}


def test_shipped_example_fixes_the_protocol() -> None:
    cfg = load_experiment_config(REPO / "examples" / "utility.yaml")
    assert (cfg.cut_intents, cfg.keep_fraction) == (10, 0.1)
    assert cfg.quick.student.backend == "classifier"
    assert cfg.full.student.backend == "llm"
    assert cfg.quick.n_synthetic < cfg.full.n_synthetic
    assert len(cfg.quick.seeds) >= 2
    # standard: at least 300 rows per condition (a third of what the cut removes), 3 seeds,
    # the light student, one synthesis shared by the seeds
    assert cfg.standard.student.backend == "classifier"
    assert cfg.standard.n_synthetic >= 300
    assert len(cfg.standard.seeds) == 3
    assert cfg.shares_synthesis("standard")
    assert not cfg.shares_synthesis("quick")
    assert cfg.resolve(cfg.data.train_path).name == "train.csv"
    assert cfg.resolve(cfg.data.train_path).parent == REPO.parent / "shared" / "data" / "banking77"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"cut_intent": 3}, "unknown key 'cut_intent' in the top level; expected one of"),
        ({"quick": {"n_synthetic": 8, "seeds": [0], "student": {"backend": "llm"}}},
         "quick.student.backend must be 'classifier'"),
        ({"standard": {"n_synthetic": 8, "seeds": [0], "student": {"backend": "llm"}}},
         "standard.student.backend must be 'classifier'"),
        ({"gaps": {"total_budget": 10}}, "gaps.total_budget"),
        ({"quick": {"n_synthetic": 8, "seeds": [1, 1], "student": {}}}, "seeds must be distinct"),
        ({"full": {"n_synthetic": 1, "seeds": [0], "student": {}}}, "full.n_synthetic"),
        ({"keep_fraction": 1.5}, "keep_fraction"),
        ({"teacher": {"modle": "x"}}, "unknown key 'modle' in teacher"),
        ({}, None),
    ],
)  # fmt: skip
def test_invalid_values_are_named(data: dict[str, object], message: str | None) -> None:
    if message is None:
        with pytest.raises(ConfigError, match="data: Field required"):
            UtilityExperimentConfig.from_dict(data)
        return
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        UtilityExperimentConfig.from_dict({**DATA, **data})


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_experiment_config(tmp_path / "absent.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load_experiment_config(bad)
    good = tmp_path / "ok.yaml"
    good.write_text("data: {train_path: t.csv, test_path: s.csv}\nhome: out\n", encoding="utf-8")
    cfg = load_experiment_config(good)
    assert cfg.home_dir == (tmp_path / "out").resolve()
