"""What the synthesis benchmarks share: banking77 discovery, its documents, the teacher flags.

Not a benchmark itself (`make bench` skips files whose name starts with `_`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

REPO = Path(__file__).resolve().parents[1]


def banking77_train() -> Path | None:
    """banking77 `train.csv` under $FACTORY_TEST_DATA or ../shared/data, or None if absent."""
    root = Path(os.environ.get("FACTORY_TEST_DATA", REPO.parent / "shared" / "data"))
    path = root / "banking77" / "train.csv"
    return path if path.is_file() else None


def banking77_documents(path: Path) -> pl.DataFrame:
    """Distinct train texts sorted by content hash: doc_id, text, label, answer (null)."""
    import polars as pl

    from factory.hashing import content_hash

    raw = pl.read_csv(path)
    docs = raw.select(
        pl.col("text").map_elements(content_hash, return_dtype=pl.String).alias("doc_id"),
        pl.col("text"),
        pl.col("category").alias("label"),
        pl.lit(None, dtype=pl.String).alias("answer"),
    )
    return docs.unique("doc_id", keep="first").sort("doc_id")


def teacher_or_skip() -> Path | None:
    """The SmolLM2 GGUF, or None after printing why the benchmark is skipped."""
    from factory.errors import BackendError
    from factory.models import smollm2_gguf_path

    try:
        return smollm2_gguf_path()
    except BackendError as exc:
        print(f"skipped: {exc}")
        return None


def banking77_and_teacher_or_skip() -> tuple[Path, Path] | None:
    """(banking77 `train.csv`, the SmolLM2 GGUF), or None after printing why the benchmark is
    skipped."""
    data = banking77_train()
    if data is None:
        print("skipped: banking77 train.csv not found; set FACTORY_TEST_DATA to the data folder")
        return None
    gguf = teacher_or_skip()
    return None if gguf is None else (data, gguf)


def add_teacher_arguments(parser: argparse.ArgumentParser) -> None:
    """--concurrency, --max-tokens and --threads, the same on every synthesis benchmark."""
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight (4)")
    parser.add_argument("--max-tokens", type=int, default=48, help="tokens per answer (48)")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp server CPU threads (2)")
