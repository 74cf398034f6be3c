"""Interpolate + invert for real: SmolLM2 on llama.cpp, MiniLM, a banking77 slice."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import polars as pl
import pytest

from factory.config import SynthesisConfig, TeacherConfig
from factory.embedding import Embedder
from factory.hashing import content_hash, fingerprint, hash_file
from factory.models import smollm2_gguf_path
from factory.schemas import COVERAGE_GAPS, SYNTHETIC_REJECTS, SYNTHETIC_SAMPLES, vector_dtype
from factory.synthesis import synthesize_interpolations
from factory.teacher import OpenAIChatTeacher, start_teacher


def _server_pids(port: int) -> list[int]:
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"llama_cpp.server" in argv and str(port).encode() in argv:
            pids.append(int(cmdline.parent.name))
    return pids


def _slice_docs(path: Path) -> pl.DataFrame:
    raw = pl.read_csv(path)
    docs = raw.select(
        pl.col("text").map_elements(content_hash, return_dtype=pl.String).alias("doc_id"),
        pl.col("text"),
        pl.col("category").alias("label"),
        pl.lit(None, dtype=pl.String).alias("answer"),
    )
    return docs.unique("doc_id", keep="first").sort("doc_id")


def _gap(gap_id: str, rank: int, docs: pl.DataFrame, emb: Embedder) -> dict[str, Any]:
    vectors = emb.embed(docs["text"].to_list())
    target = vectors.mean(axis=0)
    return {
        "gap_id": gap_id,
        "rank": rank,
        "kind": "bridge" if docs["label"].n_unique() > 1 else "sparse_region",
        "score": 1.0 / rank,
        "target": (target / np.linalg.norm(target)).tolist(),
        "anchor_doc_ids": docs["doc_id"].to_list(),
        "cluster_id": -1,
        "budget": 2,
        "rationale": "hand-made test gap",
        "shortfall": 0.5,
        "observed": 5.0,
        "expected": 10.0,
        "evidence_doc_ids": [],
    }


def test_real_teacher_synthesizes_banking77_interpolations(
    banking77_slice: Path, minilm: Embedder, tmp_path: Path
) -> None:
    try:
        gguf = smollm2_gguf_path()
    except Exception as exc:  # BackendError with the install hint
        pytest.skip(f"SmolLM2 GGUF unavailable: {exc}")
    docs = _slice_docs(banking77_slice)
    top = docs["label"].value_counts().sort(["count", "label"], descending=[True, False])
    first, second = top["label"][0], top["label"][1]
    of = {label: docs.filter(pl.col("label") == label) for label in (first, second)}
    gaps_rows = [
        _gap("real-gap-1", 1, of[first].head(4), minilm),
        _gap("real-gap-2", 2, pl.concat([of[first].tail(2), of[second].head(2)]), minilm),
    ]
    schema = {c.name: c.dtype for c in COVERAGE_GAPS.columns}
    schema["target"] = vector_dtype(minilm.dimension)
    gaps = pl.DataFrame(gaps_rows, schema=schema)
    synth = SynthesisConfig(candidates_per_target=2, examples_in_prompt=3, seed=0)
    sampling = TeacherConfig(max_tokens=48)  # short customer messages; bounds the test's time
    with start_teacher(TeacherConfig(), tmp_path) as teacher:
        assert isinstance(teacher, OpenAIChatTeacher)
        port = urlsplit(teacher.base_url).port or 0
        assert _server_pids(port)
        result = synthesize_interpolations(
            gaps, docs, minilm, teacher, synth, sampling, "classification", "real-run"
        )
    assert _server_pids(port) == []

    samples = SYNTHETIC_SAMPLES.validate(result.samples)
    rejects = SYNTHETIC_REJECTS.validate(result.rejects)
    stats = result.stats
    print("\nreal synthesis stats:", json.dumps(stats, sort_keys=True))
    for row in samples.iter_rows(named=True):
        cosines = f"{row['target_cosine']:.3f} -> {row['achieved_cosine']:.3f}"
        print(f"  {row['gap_id']} {row['label']} {cosines} {row['text']!r}")
    assert samples.height + rejects.height == 4
    assert stats["calls"] == 8
    assert stats["accepted"] >= 1
    assert stats["prompt_tokens"] > 0
    assert stats["completion_tokens"] > 0
    anchors = {g["gap_id"]: g["anchor_doc_ids"] for g in gaps_rows}
    labels = dict(zip(docs["doc_id"], docs["label"], strict=True))
    expected_fp = fingerprint("chat", "smollm2", hash_file(gguf))
    for row in samples.iter_rows(named=True):
        assert -1.0 <= row["achieved_cosine"] <= 1.0
        assert set(row["parent_doc_ids"]) <= set(anchors[row["gap_id"]])
        assert row["label"] in {labels[d] for d in anchors[row["gap_id"]]}
        assert {labels[d] for d in row["parent_doc_ids"]} == {row["label"]}
        assert row["teacher_fingerprint"] == expected_fp
        assert row["text"].strip()
        assert row["text"] not in set(docs["text"])
    again = minilm.embed(samples["text"].to_list())
    assert again.shape == (samples.height, minilm.dimension)
