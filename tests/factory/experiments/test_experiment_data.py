"""The data protocol: reference and validation drawn before the cut, exactly the cut intents cut."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from factory.errors import ConfigError, SourceError
from factory.experiments import UtilityExperimentConfig
from factory.experiments.data import labelled_rows, split_and_cut
from factory.hashing import content_hash

INTENTS = [f"intent_{i:02d}" for i in range(20)]
PER_INTENT = 60


def _rows(texts: list[str], labels: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"doc_id": [content_hash(t) for t in texts], "text": texts, "label": labels}
    ).sort("doc_id")


def _corpus() -> tuple[pl.DataFrame, pl.DataFrame]:
    texts = [f"message {j} about {label}" for label in INTENTS for j in range(PER_INTENT)]
    labels = [label for label in INTENTS for _ in range(PER_INTENT)]
    # test holds 3 texts of each intent that also occur in train, and 5 of its own
    test_texts = [f"message {j} about {label}" for label in INTENTS for j in range(3)]
    test_texts += [f"test message {j} about {label}" for label in INTENTS for j in range(5)]
    test_labels = [label for label in INTENTS for _ in range(3)]
    test_labels += [label for label in INTENTS for _ in range(5)]
    return _rows(texts, labels), _rows(test_texts, test_labels)


def _config(**overrides: object) -> UtilityExperimentConfig:
    data = {"data": {"train_path": "train.csv", "test_path": "test.csv"}}
    settings = {"cut_intents": 5, "reference_size": 100, "validation_size": 150, **overrides}
    return UtilityExperimentConfig.from_dict({**data, **settings})


def test_exactly_the_cut_intents_keep_their_share_and_the_others_keep_every_row() -> None:
    rows, test = _corpus()
    parts = split_and_cut(rows, test, _config())
    assert len(parts.cut_intents) == 5
    assert len(set(parts.cut_intents)) == 5
    held = set(parts.reference["doc_id"]) | set(parts.validation["doc_id"])
    pool = rows.filter(~pl.col("doc_id").is_in(sorted(held)))
    before = dict(pool["label"].value_counts().iter_rows())
    after = dict(parts.train["label"].value_counts().iter_rows())
    for label in INTENTS:
        if label in parts.cut_intents:
            assert after[label] == max(1, round(0.1 * before[label])), label
            assert parts.rows_before_cut[label] == before[label]
        else:
            assert after[label] == before[label], label
    assert set(parts.train["doc_id"]) <= set(pool["doc_id"])
    # the rows the cut removed are kept aside: train + removed is the uncut train part
    assert parts.removed is not None
    assert set(parts.removed["label"].to_list()) <= set(parts.cut_intents)
    assert sorted(parts.full_train["doc_id"].to_list()) == sorted(pool["doc_id"].to_list())
    assert parts.full_train.height == parts.train.height + parts.removed.height
    assert (parts.train["split"] == "train").all()
    assert (parts.validation["split"] == "validation").all()


def test_reference_is_drawn_before_the_cut_unlabelled_and_disjoint_from_test() -> None:
    rows, test = _corpus()
    few = split_and_cut(rows, test, _config(cut_intents=2))
    many = split_and_cut(rows, test, _config(cut_intents=8))
    # which intents are cut, and how many, does not change the reference or validation
    assert few.reference["doc_id"].to_list() == many.reference["doc_id"].to_list()
    assert few.validation["doc_id"].to_list() == many.validation["doc_id"].to_list()
    assert few.reference.columns == ["doc_id", "text"]
    assert few.reference.height == 100
    assert set(few.reference["text"]).isdisjoint(set(test["text"]))
    reference_ids = set(few.reference["doc_id"])
    assert reference_ids.isdisjoint(set(few.train["doc_id"]))
    assert reference_ids.isdisjoint(set(few.validation["doc_id"]))
    # the reference keeps the original share of the intents that the cut thins out
    labels = dict(zip(rows["doc_id"], rows["label"], strict=True))
    in_cut = sum(labels[d] in many.cut_intents for d in reference_ids)
    assert in_cut >= 20  # 8 of 20 intents: about 40 of 100 reference rows; after a cut, ~4
    assert few.test.height == test.height


def test_the_protocol_is_fixed_by_its_seed() -> None:
    rows, test = _corpus()
    first = split_and_cut(rows, test, _config())
    again = split_and_cut(rows.sample(fraction=1.0, shuffle=True, seed=3), test, _config())
    other = split_and_cut(rows, test, _config(cut_seed=1))
    assert first.cut_intents == again.cut_intents
    assert first.train["doc_id"].to_list() == again.train["doc_id"].to_list()
    assert first.reference["doc_id"].to_list() != other.reference["doc_id"].to_list()


def test_sizes_that_leave_nothing_are_refused() -> None:
    rows, test = _corpus()
    with pytest.raises(ConfigError, match="leaves no train rows"):
        split_and_cut(rows, test, _config(reference_size=600, validation_size=600))
    with pytest.raises(ConfigError, match="cut_intents"):
        split_and_cut(rows, test, _config(cut_intents=20))


def test_labelled_rows_normalizes_and_drops_repeats(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_text(
        'text,category\n"  Where is   my card? ",card_arrival\nWhere is my card?,card_arrival\n'
        ",card_arrival\nTop up failed,top_up_failed\n",
        encoding="utf-8",
    )
    rows = labelled_rows(path, "text", "category")
    assert sorted(rows["text"]) == ["Top up failed", "Where is my card?"]
    assert rows["doc_id"].to_list() == sorted(rows["doc_id"].to_list())
    with pytest.raises(SourceError, match="label_field"):
        labelled_rows(path, "text", "intent")
    with pytest.raises(SourceError, match="does not exist"):
        labelled_rows(tmp_path / "absent.csv", "text", "category")
