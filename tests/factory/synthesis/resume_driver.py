"""One synthesis run in its own process, so a test can kill it with SIGKILL and restart it.

Usage: python -m tests.factory.synthesis.resume_driver WORKDIR BASE_URL GGUF
WORKDIR holds plan.parquet, train.parquet, vectors.npy and config.json; the run reads and writes
WORKDIR/cache.sqlite and leaves samples.parquet, rejects.parquet and stats.json there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import polars as pl

from factory.config import SynthesisConfig, TeacherConfig
from factory.embedding import SentenceTransformerEmbedder
from factory.synthesis import TrainSet, synthesize, targets_from_frame
from factory.teacher import OpenAIChatTeacher
from factory.teacher.cache import ResponseCache


def main(workdir: Path, base_url: str, gguf: Path) -> None:
    """Run the plan in `workdir` against the teacher at `base_url`."""
    config = json.loads((workdir / "config.json").read_text())
    synthesis = SynthesisConfig(**config["synthesis"])
    teacher_config = TeacherConfig(**config["teacher"])
    train_frame = pl.read_parquet(workdir / "train.parquet")
    train = TrainSet.from_frames(train_frame, np.load(workdir / "vectors.npy"), config["kind"])
    targets = targets_from_frame(pl.read_parquet(workdir / "plan.parquet"))
    teacher = OpenAIChatTeacher(base_url, teacher_config.model, weights_path=gguf)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2", device="cpu")
    with ResponseCache(workdir / "cache.sqlite") as cache:
        result = synthesize(
            targets,
            train,
            embedder,
            teacher,
            synthesis,
            teacher_config,
            config["kind"],
            "resume-run",
            cache,
        )
    result.samples.write_parquet(workdir / "samples.parquet")
    result.rejects.write_parquet(workdir / "rejects.parquet")
    (workdir / "stats.json").write_text(json.dumps(result.stats, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
