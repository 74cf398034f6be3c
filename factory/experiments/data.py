"""The data protocol of the utility experiment: reference, validation, train, the cut, test.

From train.csv, after normalizing texts and dropping exact duplicates (`doc_id` is the content
hash, as in the corpus layer), one permutation seeded by `cut_seed` over the rows sorted by
doc_id decides everything, before any intent is cut:

1. the reference: the first `reference_size` rows whose text is not also in test.csv, with their
   labels dropped (a team's unlabelled production queries);
2. validation: the next `validation_size` rows, labelled (where failures are looked for);
3. train: the rest; then `cut_intents` intents, drawn with the same seed, keep only the first
   `max(1, round(keep_fraction * n))` of their n train rows in permutation order. Other intents
   keep every row. The rows the cut removed are kept aside (`removed`): the ceiling condition
   (e) and the label oracle train on train + removed, the uncut train split; nothing else sees
   them.

test.csv is read as is (normalized, de-duplicated) and only scores students.

Example:
    >>> parts = split_and_cut(rows, test, cfg)  # doctest: +SKIP
    >>> len(parts.cut_intents), parts.train.height  # doctest: +SKIP
    (10, 7102)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from factory.corpus.normalize import normalize_text
from factory.errors import ConfigError, SourceError
from factory.experiments.config import UtilityExperimentConfig
from factory.hashing import content_hash

__all__ = ["ExperimentData", "labelled_rows", "load_data", "split_and_cut"]


@dataclass(frozen=True)
class ExperimentData:
    """The parts every condition shares; frames hold doc_id, split, text and label (not the
    reference, which is unlabelled), each sorted by doc_id."""

    train: pl.DataFrame
    validation: pl.DataFrame
    reference: pl.DataFrame
    test: pl.DataFrame
    cut_intents: list[str]
    rows_before_cut: dict[str, int]
    """Train rows per cut intent before the cut."""
    removed: pl.DataFrame | None = None
    """The train rows the cut removed (doc_id, split, text, label)."""

    @property
    def full_train(self) -> pl.DataFrame:
        """The train split without the cut: train + removed, sorted by doc_id."""
        if self.removed is None:
            return self.train
        return pl.concat([self.train, self.removed]).sort("doc_id")

    def summary(self) -> dict[str, object]:
        """Sizes and the cut, as plain data."""
        kept = self.train.filter(pl.col("label").is_in(self.cut_intents))["label"].value_counts()
        return {
            "train": self.train.height,
            "validation": self.validation.height,
            "reference": self.reference.height,
            "test": self.test.height,
            "intents": self.train["label"].n_unique(),
            "cut_intents": self.cut_intents,
            "cut_rows_before": self.rows_before_cut,
            "cut_rows_after": dict(sorted(kept.iter_rows())),
        }


def labelled_rows(path: Path, text_field: str, label_field: str) -> pl.DataFrame:
    """doc_id, text, label of a CSV file: texts normalized, empty ones and repeats dropped
    (the first of a repeated text is kept), sorted by doc_id."""
    if not path.is_file():
        msg = f"{str(path)!r} does not exist; fix data.train_path / data.test_path"
        raise SourceError(msg)
    frame = pl.read_csv(path, infer_schema=False)
    missing = [c for c in (text_field, label_field) if c not in frame.columns]
    if missing:
        msg = (
            f"{str(path)!r} has no columns {missing} (it has {frame.columns}); set "
            "data.text_field / data.label_field"
        )
        raise SourceError(msg)
    texts = [normalize_text(t or "") for t in frame[text_field].to_list()]
    out = pl.DataFrame({"text": texts, "label": frame[label_field].cast(pl.String)})
    out = out.filter((pl.col("text") != "") & pl.col("label").is_not_null())
    out = out.with_columns(doc_id=pl.col("text").map_elements(content_hash, pl.String))
    return out.unique("doc_id", keep="first", maintain_order=True).sort("doc_id")


def load_data(config: UtilityExperimentConfig) -> ExperimentData:
    """Read train.csv and test.csv named by the config and apply `split_and_cut`."""
    data = config.data
    rows = labelled_rows(config.resolve(data.train_path), data.text_field, data.label_field)
    test = labelled_rows(config.resolve(data.test_path), data.text_field, data.label_field)
    return split_and_cut(rows, test, config)


def split_and_cut(
    rows: pl.DataFrame, test: pl.DataFrame, config: UtilityExperimentConfig
) -> ExperimentData:
    """Reference, validation and train from `rows` (doc_id, text, label), then the cut."""
    rows = rows.sort("doc_id")
    n = rows.height
    held = config.reference_size + config.validation_size
    if held >= n:
        msg = (
            f"reference_size + validation_size = {held} leaves no train rows of {n}; "
            "make them smaller"
        )
        raise ConfigError(msg)
    rng = np.random.default_rng(config.cut_seed)
    order = rng.permutation(n)
    in_test = set(test["text"].to_list())
    texts = rows["text"].to_list()
    free = [int(i) for i in order if texts[i] not in in_test]
    if len(free) < config.reference_size:
        msg = (
            f"only {len(free)} train rows are not also in test; lower reference_size "
            f"({config.reference_size})"
        )
        raise ConfigError(msg)
    reference_rows = free[: config.reference_size]
    taken = set(reference_rows)
    rest = [int(i) for i in order if int(i) not in taken]
    validation_rows = rest[: config.validation_size]
    train_rows = rest[config.validation_size :]
    pool = _take(rows, train_rows)
    labels = sorted(set(pool["label"].to_list()))
    if config.cut_intents >= len(labels):
        msg = (
            f"cut_intents ({config.cut_intents}) must be fewer than the {len(labels)} intents "
            "in the train part; lower it"
        )
        raise ConfigError(msg)
    cut = sorted(str(x) for x in rng.choice(labels, size=config.cut_intents, replace=False))
    pool = pool.with_row_index("_order")  # permutation order
    before = {label: int((pool["label"] == label).sum()) for label in cut}
    keep = {label: max(1, round(config.keep_fraction * count)) for label, count in before.items()}
    pool = pool.with_columns(_rank=pl.int_range(pl.len()).over("label", order_by="_order"))
    kept_mask = ~pl.col("label").is_in(cut) | (
        pl.col("_rank") < pl.col("label").replace_strict(keep, default=0)
    )
    kept, removed = pool.filter(kept_mask), pool.filter(~kept_mask)
    return ExperimentData(
        train=_split(kept.drop("_order", "_rank"), "train"),
        validation=_split(_take(rows, validation_rows), "validation"),
        reference=_take(rows, reference_rows).select("doc_id", "text").sort("doc_id"),
        test=_split(test, "test"),
        cut_intents=cut,
        rows_before_cut=before,
        removed=_split(removed.drop("_order", "_rank"), "train"),
    )


def _split(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.select("doc_id", pl.lit(name).alias("split"), "text", "label").sort("doc_id")


def _take(frame: pl.DataFrame, rows: list[int]) -> pl.DataFrame:
    return frame.select(pl.all().gather(rows))
