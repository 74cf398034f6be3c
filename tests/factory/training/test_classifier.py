"""The light classification student: a linear softmax head trained in torch on vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from factory.config import StudentConfig
from factory.errors import ConfigError, FactoryError
from factory.training import load_head, train_head
from factory.training.checkpoints import hash_checkpoint
from factory.training.classifier import LinearHead

CENTRES = {"card": 0, "cash": 1, "pin": 2}


def _clusters(n_per: int, seed: int) -> tuple[np.ndarray, list[str]]:
    """Three well-separated Gaussian blobs in 8-d, off the origin and unevenly scaled."""
    rng = np.random.default_rng(seed)
    vectors, labels = [], []
    for label, axis in CENTRES.items():
        centre = np.full(8, 3.0)
        centre[axis] += 4.0
        vectors.append(centre + rng.normal(0.0, 0.5, size=(n_per, 8)))
        labels += [label] * n_per
    x = np.concatenate(vectors).astype(np.float32)
    x[:, 5] *= 100.0  # a badly scaled, uninformative dimension
    order = rng.permutation(len(labels))
    return x[order], [labels[i] for i in order]


def _config(**overrides: object) -> StudentConfig:
    values: dict[str, object] = {"backend": "classifier", "head_epochs": 15, "head_batch_size": 16}
    return StudentConfig(**(values | overrides))


def test_learns_a_separable_problem_and_generalizes(tmp_path: Path) -> None:
    x, y = _clusters(40, seed=0)
    calls: list[tuple[int, int]] = []
    out = tmp_path / "runs" / "head"
    result = train_head(x, y, _config(), out, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(e, 15) for e in range(1, 16)]
    assert result.steps == 15 * 8  # ceil(120 / 16) batches per epoch
    assert result.perplexity_before is None
    assert result.perplexity_after is None
    assert result.checkpoint_path == out
    assert result.checkpoint_hash == hash_checkpoint(out)
    assert sorted(p.name for p in out.iterdir()) == [
        "factory_training.json", "head.safetensors", "labels.json",
    ]  # fmt: skip
    assert [p.name for p in out.parent.iterdir()] == ["head"]  # no staging folder left
    info = json.loads((out / "factory_training.json").read_text())
    assert info["hyperparameters"] == result.hyperparameters
    assert result.hyperparameters["method"] == "linear-head"
    assert result.hyperparameters["classes"] == 3
    assert info["train_accuracy"] == 1.0

    head = load_head(out)
    assert isinstance(head, LinearHead)
    assert head.labels == ["card", "cash", "pin"]
    assert head.dimension == 8
    fresh, truth = _clusters(30, seed=1)
    assert head.predict(fresh) == truth
    probs = head.probabilities(fresh)
    assert probs.shape == (90, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    picked = [head.labels[i] for i in probs.argmax(axis=1)]
    assert picked == truth
    assert float(probs.max(axis=1).mean()) > 0.9


def test_training_is_deterministic_and_the_hash_follows_the_seed(tmp_path: Path) -> None:
    x, y = _clusters(20, seed=2)
    first = train_head(x, y, _config(seed=3), tmp_path / "a")
    again = train_head(x, y, _config(seed=3), tmp_path / "b")
    other = train_head(x, y, _config(seed=4), tmp_path / "c")
    assert first.checkpoint_hash == again.checkpoint_hash
    assert hash_checkpoint(tmp_path / "a") == hash_checkpoint(tmp_path / "b")
    assert other.checkpoint_hash != first.checkpoint_hash  # another shuffle, other weights
    a, b = load_head(tmp_path / "a"), load_head(tmp_path / "b")
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.predict(x) == b.predict(x) == load_head(tmp_path / "a").predict(x)


def test_retraining_replaces_the_folder_whole(tmp_path: Path) -> None:
    x, y = _clusters(10, seed=5)
    out = tmp_path / "head"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier run")
    train_head(x, y, _config(head_epochs=2), out)
    assert not (out / "stale.txt").exists()
    assert (out / "head.safetensors").is_file()


def test_bad_inputs_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    x, y = _clusters(5, seed=6)
    out = tmp_path / "head"
    with pytest.raises(FactoryError, match="got 15 vectors but 14 labels"):
        train_head(x, y[:-1], _config(), out)
    with pytest.raises(FactoryError, match=r"at least two distinct labels; got \['card'\]"):
        train_head(x, ["card"] * 15, _config(), out)
    with pytest.raises(FactoryError, match=r"labels has 1 null.*index 2"):
        train_head(x, [*y[:2], None, *y[3:]], _config(), out)  # type: ignore[list-item]
    broken = x.copy()
    broken[4, 1] = np.nan
    with pytest.raises(FactoryError, match="1 rows with NaN"):
        train_head(broken, y, _config(), out)
    with pytest.raises(FactoryError, match=r"shape \(n, d\).*\(15,\)"):
        train_head(x[:, 0], y, _config(), out)
    assert not out.exists()


def test_the_head_checks_what_it_is_given(tmp_path: Path) -> None:
    x, y = _clusters(5, seed=7)
    train_head(x, y, _config(head_epochs=1), tmp_path / "head")
    head = load_head(tmp_path / "head")
    with pytest.raises(FactoryError, match="dimension 4 but the head was trained on 8"):
        head.predict(x[:, :4])
    assert head.predict(x[:0]) == []
    with pytest.raises(ConfigError, match=r"not a classifier head.*head\.safetensors"):
        load_head(tmp_path)
    (tmp_path / "head" / "labels.json").write_text('["card", "cash"]')
    with pytest.raises(ConfigError, match=r"inconsistent.*2 labels"):
        load_head(tmp_path / "head")
