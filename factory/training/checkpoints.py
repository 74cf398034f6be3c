"""What every student trainer returns and how it writes its folder: whole, or not at all.

A trainer writes into a staging folder beside `output_dir` (`staged_output`), which replaces
`output_dir` by a rename once everything is written, so a crash never leaves a half-written
checkpoint. `factory_training.json` in the folder records what it was trained from and how, and
the figures of the training (`load_train_result` reads them back when a checkpoint is reused).

Example:
    >>> with staged_output(Path("students/s1")) as folder:  # doctest: +SKIP
    ...     write_training_info(folder, {"hyperparameters": {"method": "lora"}})
    >>> hash_checkpoint(Path("students/s1"))  # doctest: +SKIP
    '5be1...'
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from factory.hashing import hash_files

__all__ = [
    "TRAINING_INFO",
    "Progress",
    "TrainResult",
    "hash_checkpoint",
    "load_train_result",
    "read_training_info",
    "staged_output",
    "write_training_info",
]

TRAINING_INFO = "factory_training.json"

Progress = Callable[[int, int], None]
"""Called as `progress(done, total)` after each optimizer step (each epoch for a head)."""


@dataclass(frozen=True)
class TrainResult:
    """A saved checkpoint (LoRA adapter, full model or linear head), its hash and the figures."""

    checkpoint_path: Path
    checkpoint_hash: str
    steps: int
    perplexity_before: float | None
    """Perplexity of the base on the eval texts; None for a classifier head."""
    perplexity_after: float | None
    """Perplexity of the trained student on the eval texts; None for a classifier head."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    """Wall time of the whole call (load, both perplexities, training, saving)."""
    train_seconds: float = 0.0
    """Wall time of the optimizer steps alone."""


def hash_checkpoint(folder: Path) -> str:
    """SHA-256 over every file of a checkpoint folder (relative paths and contents)."""
    folder = Path(folder)
    return hash_files([p for p in folder.rglob("*") if p.is_file()], root=folder)


@contextlib.contextmanager
def staged_output(output_dir: Path) -> Iterator[Path]:
    """An empty folder that replaces `output_dir` whole when the block ends without an error.

    Its parent is a private temporary folder, free for scratch files; it is removed either way.
    """
    output_dir = Path(output_dir)
    output_dir.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{output_dir.name}.tmp-"
    with tempfile.TemporaryDirectory(dir=output_dir.parent, prefix=prefix) as tmp:
        staging = Path(tmp) / "checkpoint"
        staging.mkdir()
        yield staging
        if output_dir.exists():
            os.rename(output_dir, Path(tmp) / "previous")
        os.rename(staging, output_dir)


def write_training_info(folder: Path, info: dict[str, Any]) -> None:
    """Write `info` as the folder's sorted, indented `factory_training.json`."""
    text = json.dumps(info, indent=2, sort_keys=True) + "\n"
    (Path(folder) / TRAINING_INFO).write_text(text, encoding="utf-8")


def read_training_info(folder: Path) -> dict[str, Any] | None:
    """The folder's `factory_training.json`, or None when it has none."""
    path = Path(folder) / TRAINING_INFO
    if not path.is_file():
        return None
    info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return info


def load_train_result(folder: Path) -> TrainResult | None:
    """The result of the training that wrote `folder`, read back from its record (hash
    recomputed from the files, no timings); None when it holds no complete checkpoint."""
    info = read_training_info(folder)
    if info is None or "steps" not in info:
        return None
    return TrainResult(
        checkpoint_path=Path(folder),
        checkpoint_hash=hash_checkpoint(folder),
        steps=int(info["steps"]),
        perplexity_before=info.get("perplexity_before"),
        perplexity_after=info.get("perplexity_after"),
        hyperparameters=dict(info.get("hyperparameters") or {}),
    )
