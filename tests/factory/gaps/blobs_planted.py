"""Unit-length blobs with planted holes, bridges and junk, and the rules that score a gap finding.

Everything is fixed in advance (not tuned toward a result):

- 12 centres in 32-d, `default_rng(12)` normal draws scaled to unit length. The centres of the
  bridge pairs (3, 4) and (5, 6) are placed close: centre 4 (6) is centre 3 (5) rotated toward
  its own random draw by 0.8 rad (cosine 0.70); the other centres are independent draws.
- `sklearn.datasets.make_blobs`, 200 points per centre, `cluster_std=0.05`, `random_state=12`,
  every point scaled to unit length (the gap finder works on cosine).
- A reference: a 20% random sample of the 2400 blob points, drawn first.
- Holes: blobs 0, 1 and 2 are cut in the corpus to a random 5% of their remaining points.
- Bridges: 4 points on each pair's great-circle segment (at 0.2, 0.4, 0.6, 0.8 of the way), with
  noise of half the blob std; the space between the pair is otherwise empty.
- Junk: 20 random unit vectors, each with cosine below 0.5 to every centre.
- Corpus order: blob points, segment points, junk; every 5th row is validation, the rest train;
  doc_id is the content hash of a generated text.

Scoring: a hole is found when some gap covers it (strictly more than half of its anchors, or of
the 10 reference points nearest its target, are from that blob). A bridge is found when some
bridge gap has anchors from both blobs of the pair, or some gap's target has cosine above the
centres' mutual cosine to both centres. A junk gap is one whose anchors are mostly junk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.datasets import make_blobs

from factory.gaps import BRIDGE, Reference
from factory.hashing import content_hash
from tests.factory.gaps.banking_planted import covered_by_rank, majority

SEED = 12
DIM = 32
BLOBS = 12
PER_BLOB = 200
STD = 0.05
REFERENCE_SHARE = 0.2
HOLES = (0, 1, 2)
HOLE_KEEP = 0.05
BRIDGES = ((3, 4), (5, 6))
BRIDGE_ANGLE = 0.8
SEGMENT = (0.2, 0.4, 0.6, 0.8)
JUNK = 20
JUNK_MAX_COSINE = 0.5
JUNK_GROUP = "junk"


def blob_name(b: int) -> str:
    """The group name of blob `b`."""
    return f"blob{'abcdefghijkl'[b]}"


@dataclass(frozen=True)
class PlantedBlobs:
    """The corpus (ids, splits, unit vectors, texts, hidden groups), the reference and centres."""

    doc_ids: list[str]
    splits: list[str]
    vectors: np.ndarray
    texts: list[str]
    group_of: dict[str, str]
    reference: Reference
    reference_groups: list[str]
    centres: np.ndarray


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=-1, keepdims=True)).astype(np.float32)


def _centres(rng: np.random.Generator) -> np.ndarray:
    centres = _unit(rng.normal(size=(BLOBS, DIM))).astype(np.float64)
    for a, b in BRIDGES:
        away = centres[b] - (centres[b] @ centres[a]) * centres[a]
        away /= np.linalg.norm(away)
        centres[b] = np.cos(BRIDGE_ANGLE) * centres[a] + np.sin(BRIDGE_ANGLE) * away
    return centres


def _slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    angle = float(np.arccos(np.clip(a @ b, -1.0, 1.0)))
    return (np.sin((1 - t) * angle) * a + np.sin(t * angle) * b) / np.sin(angle)


def make_planted_blobs() -> PlantedBlobs:
    """Build the planted corpus and reference under the fixed rules of this module."""
    rng = np.random.default_rng(SEED)
    centres = _centres(rng)
    points, blob = make_blobs(
        n_samples=[PER_BLOB] * BLOBS,
        n_features=DIM,
        centers=centres,
        cluster_std=STD,
        shuffle=False,
        random_state=SEED,
    )
    points = _unit(np.asarray(points))
    n = points.shape[0]
    held = np.sort(rng.choice(n, size=round(REFERENCE_SHARE * n), replace=False))
    remaining = np.setdiff1d(np.arange(n), held)
    dropped: set[int] = set()
    for hole in HOLES:
        rows = remaining[blob[remaining] == hole]
        keep = set(rng.choice(rows, size=max(1, round(HOLE_KEEP * rows.size)), replace=False))
        dropped.update(int(i) for i in rows if i not in keep)
    corpus = [int(i) for i in remaining if int(i) not in dropped]

    vectors = [points[i] for i in corpus]
    groups = [blob_name(int(blob[i])) for i in corpus]
    for a, b in BRIDGES:
        for t in SEGMENT:
            on = _slerp(centres[a], centres[b], t) + rng.normal(scale=STD / 2, size=DIM)
            vectors.append(_unit(on))
            groups.append(f"segment{'abcdefghijkl'[a]}{'abcdefghijkl'[b]}")
    junk = 0
    while junk < JUNK:
        v = _unit(rng.normal(size=DIM)).astype(np.float64)
        if float(np.max(centres @ v)) < JUNK_MAX_COSINE:
            vectors.append(v.astype(np.float32))
            groups.append(JUNK_GROUP)
            junk += 1

    texts = [f"{g} item {i}" for i, g in enumerate(groups)]
    ids = [content_hash(t) for t in texts]
    ref_ids = [content_hash(f"reference {blob_name(int(blob[i]))} item {i}") for i in held]
    return PlantedBlobs(
        doc_ids=ids,
        splits=["validation" if i % 5 == 0 else "train" for i in range(len(ids))],
        vectors=np.stack(vectors).astype(np.float32),
        texts=texts,
        group_of=dict(zip(ids, groups, strict=True)),
        reference=Reference(ids=ref_ids, vectors=points[held]),
        reference_groups=[blob_name(int(blob[i])) for i in held],
        centres=centres.astype(np.float32),
    )


def holes_found(gaps: pl.DataFrame, planted: PlantedBlobs) -> dict[int, list[int]]:
    """Per hole blob, the ranks of the gaps that cover it."""
    covered = covered_by_rank(
        gaps, planted.group_of, planted.reference.vectors, planted.reference_groups, top=None
    )
    return {
        hole: [rank for rank, labs in covered.items() if blob_name(hole) in labs] for hole in HOLES
    }


def bridges_found(gaps: pl.DataFrame, planted: PlantedBlobs) -> dict[tuple[int, int], list[int]]:
    """Per bridge pair, the ranks of the gaps that find it."""
    targets = np.asarray(gaps["target"].to_list(), dtype=np.float32).reshape(gaps.height, -1)
    found: dict[tuple[int, int], list[int]] = {}
    for a, b in BRIDGES:
        ca, cb = planted.centres[a], planted.centres[b]
        between = float(ca @ cb)
        ranks = []
        for row, target in zip(gaps.iter_rows(named=True), targets, strict=True):
            groups = {planted.group_of[d] for d in row["anchor_doc_ids"]}
            spans = row["kind"] == BRIDGE and {blob_name(a), blob_name(b)} <= groups
            inside = float(target @ ca) > between and float(target @ cb) > between
            if spans or inside:
                ranks.append(int(row["rank"]))
        found[(a, b)] = ranks
    return found


def junk_gaps(gaps: pl.DataFrame, group_of: Mapping[str, str]) -> list[int]:
    """Ranks of the gaps whose anchors are mostly (strictly more than half) junk."""
    return [
        int(rank)
        for rank, anchors in zip(gaps["rank"], gaps["anchor_doc_ids"], strict=True)
        if majority([group_of[d] for d in anchors]) == JUNK_GROUP
    ]


def describe(gaps: pl.DataFrame, planted: PlantedBlobs) -> list[str]:
    """One line per gap: rank, kind, score, the groups of its anchors, its rationale."""
    lines = []
    for row in gaps.sort("rank").iter_rows(named=True):
        groups: Sequence[str] = [planted.group_of[d] for d in row["anchor_doc_ids"]]
        lines.append(
            f"#{row['rank']:<3} {row['kind']:<17} {row['score']:.3f} anchors {list(groups)} "
            f"| {row['rationale']}"
        )
    return lines
