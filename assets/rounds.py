"""Failure-loop rounds: the dynamic partition `round` ("1", "2", ...) of every asset from the
gaps on.

Round 1 finds the corpus's gaps. Round k > 1 finds the gaps where round k-1's student failed on
the validation split (its `student_evaluation`), and the synthetic rows it makes are added to
those of the earlier rounds: the round-k student trains on train + rounds 1..k. The corpus,
embedding and map layers are not partitioned; every round reads the same ones.
"""

import dagster as dg
import polars as pl

from factory.errors import ConfigError, FactoryError
from factory.home import Home
from factory.storage import read_table

__all__ = [
    "ROUNDS",
    "ROUND_PARTITION",
    "add_round",
    "current_round",
    "evaluated_round",
    "previous_failures",
    "release_row",
    "round_key",
    "rounds_through",
]

ROUND_PARTITION = "round"
ROUNDS = dg.DynamicPartitionsDefinition(name=ROUND_PARTITION)


def round_key(number: int) -> str:
    """The partition key of round `number` (rounds count from 1)."""
    if number < 1:
        msg = f"rounds count from 1; got round {number}"
        raise ConfigError(msg)
    return str(number)


def parse_round(key: str) -> int:
    """The round number of partition key `key`."""
    if not key.isdigit() or int(key) < 1:
        msg = f"round partition {key!r} is not a round number; use 1, 2, 3, ..."
        raise ConfigError(msg)
    return int(key)


def current_round(context: dg.AssetExecutionContext) -> int:
    """The round being materialized; 1 for an unpartitioned call (a direct invocation)."""
    return parse_round(context.partition_key) if context.has_partition_key else 1


def add_round(instance: dg.DagsterInstance, number: int) -> str:
    """Register round `number` as a partition (idempotent) and return its key."""
    key = round_key(number)
    if not instance.has_dynamic_partition(ROUND_PARTITION, key):
        instance.add_dynamic_partitions(ROUND_PARTITION, [key])
    return key


def _stored_round(home: Home, name: str, number: int, needed_by: int) -> pl.DataFrame:
    frame = read_table(home, name, round_key(number))
    if frame is None:
        msg = (
            f"round {needed_by} needs {name} of round {number}, which was never materialized; "
            f"run `factory run --round {number}` first"
        )
        raise FactoryError(msg)
    return frame


def rounds_through(home: Home, name: str, number: int, current: pl.DataFrame) -> pl.DataFrame:
    """Table `name` of rounds 1..`number`: the stored earlier rounds, then `current` (this
    round's frame, as Dagster passed it in)."""
    earlier = [_stored_round(home, name, k, number) for k in range(1, number)]
    return pl.concat([*earlier, current], how="vertical_relaxed") if earlier else current


def previous_failures(home: Home, number: int) -> pl.DataFrame:
    """(doc_id, correct) of round `number - 1`'s student on the validation split (examples
    without a verdict, as for task kind text, are left out)."""
    evaluation = _stored_round(home, "student_evaluation", number - 1, number)
    mine = (pl.col("model") == "student") & (pl.col("split") == "validation")
    return evaluation.filter(mine & pl.col("correct").is_not_null()).select("doc_id", "correct")


def evaluated_round(home: Home, number: int | None = None) -> int:
    """Round `number` (default: the highest with a stored student evaluation), checked to have a
    stored `student_evaluation`; raises FactoryError naming the run to do first."""
    if number is None:
        pattern = home.table_path("student_evaluation", "*")
        stored = [p.stem for p in pattern.parent.glob(pattern.name)]
        rounds = [int(stem) for stem in stored if stem.isdigit()]
        if not rounds:
            msg = f"nothing to release under {home.root}; run `factory run` first"
            raise FactoryError(msg)
        number = max(rounds)
    if not home.table_path("student_evaluation", round_key(number)).exists():
        msg = (
            f"round {number} has no student evaluation under {home.root}; run "
            f"`factory run --round {number}` first"
        )
        raise FactoryError(msg)
    return number


def release_row(home: Home, number: int) -> dict[str, object] | None:
    """The `dataset_release` row of round `number` (paths, row counts), or None when unwritten."""
    frame = read_table(home, "dataset_release", round_key(number))
    return None if frame is None else frame.row(0, named=True)
