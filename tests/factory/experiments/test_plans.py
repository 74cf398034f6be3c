"""The untargeted plan of condition (b) and the budget split of condition (d)."""

from __future__ import annotations

import numpy as np
import pytest

from factory.experiments.plans import UNTARGETED, untargeted_plan
from factory.experiments.utility import adversarial_split
from factory.synthesis import TrainSet


def _train(rows: int = 60, labels: int = 4) -> TrainSet:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(rows, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    names = [f"l{i % labels}" for i in range(rows)]
    return TrainSet([f"d{i:03d}" for i in range(rows)], [f"text {i}" for i in range(rows)],
                    list(names), [None] * rows, vectors)  # fmt: skip


def test_untargeted_targets_are_train_rows_shown_first_with_same_label_neighbours() -> None:
    train = _train()
    targets = untargeted_plan(train, 10, seed=0, examples=3)
    assert len(targets) == 10
    rows = train.row_of()
    for t in targets:
        origin = rows[t.origin_doc_id]
        assert t.parent_doc_ids[0] == t.origin_doc_id
        assert len(t.parent_doc_ids) == 3 == len(set(t.parent_doc_ids))
        assert {train.labels[rows[p]] for p in t.parent_doc_ids} == {t.label}
        assert t.label == train.labels[origin]
        np.testing.assert_array_equal(t.vector, train.vectors[origin])
        assert (t.method, t.step, t.gap_kind, t.target_cosine) == ("perturb", 0.0, UNTARGETED, 1.0)
        # the nearest same-label rows come next
        same = [r for r in range(60) if train.labels[r] == t.label and r != origin]
        best = max(same, key=lambda r: float(train.vectors[r] @ train.vectors[origin]))
        assert t.parent_doc_ids[1] == train.doc_ids[best]
    assert len({t.origin_doc_id for t in targets}) == 10  # no repeats while n <= rows
    assert len({t.target_id for t in targets}) == 10


def test_untargeted_rows_follow_the_seed() -> None:
    train = _train()
    first = [t.origin_doc_id for t in untargeted_plan(train, 10, seed=0, examples=3)]
    again = [t.origin_doc_id for t in untargeted_plan(train, 10, seed=0, examples=3)]
    other = [t.origin_doc_id for t in untargeted_plan(train, 10, seed=1, examples=3)]
    assert first == again
    assert first != other


@pytest.mark.parametrize(
    ("n", "share", "split"),
    [(48, 0.5, (24, 24)), (5, 0.5, (3, 2)), (2, 0.9, (1, 1)), (400, 0.25, (300, 100))],
)
def test_adversarial_split_keeps_the_total(n: int, share: float, split: tuple[int, int]) -> None:
    assert adversarial_split(n, share) == split
    assert sum(adversarial_split(n, share)) == n


def test_label_precision_is_the_oracles_agreement() -> None:
    from factory.experiments.utility import label_precision

    assert label_precision(["a", "b", "c", "a"], ["a", "b", "a", "b"]) == 0.5
    assert label_precision([], []) is None
    with pytest.raises(ValueError, match="align them"):
        label_precision(["a"], [])
