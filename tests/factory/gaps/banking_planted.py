"""Banking77 with ten intents cut down, for the planted-gap measurements; the labels stay here.

The rules, fixed before any measurement and never tuned toward a result:

1. Only banking77 `train.csv` is read (columns `text`, `category`); `test.csv` never is.
2. With `numpy.random.default_rng(77)`: first an unlabelled reference, a 15% random sample of the
   train rows, drawn before any cut. Then 10 intents, drawn without replacement from the sorted
   categories; among the remaining rows each is cut to a random 10% of its rows (at least 1),
   in sorted order of the cut intents.
3. The factory sees text only: a CSV with a single `text` column, ingested by `ingest_corpus`,
   so doc_id and split come from the real ingestion path. Labels are looked up here, by doc_id
   (content hash of the normalized text), never handed to the factory unless a test says so.
4. A gap covers an intent when strictly more than half of its anchors, or strictly more than half
   of the (at most 10) reference points nearest its target, carry that intent.
5. Recall is the number of distinct cut intents covered by the top 20 gaps (by rank).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from factory.corpus import normalize_text
from factory.hashing import content_hash

SEED = 77
REFERENCE_SHARE = 0.15
CUT_INTENTS = 10
KEEP_SHARE = 0.10
TOP = 20
NEAREST_REFERENCE = 10


@dataclass(frozen=True)
class PlantedBanking:
    """The corpus rows (text and hidden intent), the reference rows, and the cut intents."""

    corpus_texts: list[str]
    corpus_labels: list[str]
    reference_texts: list[str]
    reference_labels: list[str]
    cut: list[str]
    original_counts: dict[str, int]


def read_train_rows(train_csv: Path) -> tuple[list[str], list[str]]:
    """Texts and categories of banking77 `train.csv`, in file order."""
    with train_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def plant(texts: Sequence[str], categories: Sequence[str], seed: int = SEED) -> PlantedBanking:
    """Hold out the reference, then cut `CUT_INTENTS` intents to `KEEP_SHARE` (rules 2)."""
    rng = np.random.default_rng(seed)
    n = len(texts)
    held = set(rng.choice(n, size=round(REFERENCE_SHARE * n), replace=False).tolist())
    remaining = [i for i in range(n) if i not in held]
    intents = sorted(set(categories))
    cut = sorted(str(c) for c in rng.choice(intents, size=CUT_INTENTS, replace=False))
    dropped: set[int] = set()
    for intent in cut:
        rows = [i for i in remaining if categories[i] == intent]
        keep = set(rng.choice(rows, size=max(1, round(KEEP_SHARE * len(rows))), replace=False))
        dropped.update(i for i in rows if i not in keep)
    corpus = [i for i in remaining if i not in dropped]
    reference = sorted(held)
    return PlantedBanking(
        corpus_texts=[texts[i] for i in corpus],
        corpus_labels=[categories[i] for i in corpus],
        reference_texts=[texts[i] for i in reference],
        reference_labels=[categories[i] for i in reference],
        cut=cut,
        original_counts=dict(Counter(categories)),
    )


def write_text_csv(path: Path, texts: Sequence[str]) -> Path:
    """A CSV with one `text` column: all the factory is shown of the corpus."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["text"])
        writer.writerows([t] for t in texts)
    return path


def doc_id_of(text: str) -> str:
    """The doc_id ingestion gives a text: the content hash of its normalized form."""
    return content_hash(normalize_text(text))


def labels_by_doc_id(texts: Sequence[str], labels: Sequence[str]) -> dict[str, str]:
    """doc_id -> label; the first row of a repeated text wins, as in ingestion."""
    found: dict[str, str] = {}
    for text, label in zip(texts, labels, strict=True):
        found.setdefault(doc_id_of(text), label)
    return found


def majority(labels: Sequence[str | None]) -> str | None:
    """The label carried by strictly more than half of `labels`, else None."""
    if not labels:
        return None
    label, count = Counter(labels).most_common(1)[0]
    return label if label is not None and 2 * count > len(labels) else None


def nearest_reference_labels(
    target: np.ndarray, reference: np.ndarray, reference_labels: Sequence[str]
) -> list[str]:
    """Labels of the (at most `NEAREST_REFERENCE`) reference rows nearest a unit target."""
    sims = reference @ target
    order = np.lexsort((np.arange(sims.size), -sims))[:NEAREST_REFERENCE]
    return [reference_labels[i] for i in order]


def gap_covers(
    anchors: Sequence[str],
    target: np.ndarray,
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
) -> set[str]:
    """The labels a gap covers under rule 4 (at most two: one by anchors, one by reference)."""
    by_anchors = majority([label_of.get(a) for a in anchors])
    by_reference = majority(nearest_reference_labels(target, reference, reference_labels))
    return {lab for lab in (by_anchors, by_reference) if lab is not None}


def covered_by_rank(
    gaps: pl.DataFrame,
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
    top: int | None = TOP,
) -> dict[int, set[str]]:
    """rank -> labels covered, for the gaps of rank <= `top` (all gaps when `top` is None)."""
    picked = gaps.sort("rank")
    if top is not None:
        picked = picked.filter(pl.col("rank") <= top)
    targets = np.asarray(picked["target"].to_list(), dtype=np.float32)
    return {
        int(rank): gap_covers(anchors, target, label_of, reference, reference_labels)
        for rank, anchors, target in zip(
            picked["rank"].to_list(), picked["anchor_doc_ids"].to_list(), targets, strict=True
        )
    }


def intents_covered(
    gaps: pl.DataFrame,
    cut: Sequence[str],
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
    top: int | None = TOP,
) -> set[str]:
    """The cut intents covered by the top `top` gaps (rule 5)."""
    covered = covered_by_rank(gaps, label_of, reference, reference_labels, top)
    wanted = set(cut)
    return {lab for labs in covered.values() for lab in labs if lab in wanted}


@dataclass(frozen=True)
class RecallRow:
    """One line of the per-kind table: the run, how many gaps it kept, the cut intents covered."""

    run: str
    gaps: int
    covered: set[str]

    def line(self, total: int) -> str:
        """The row as a fixed-width line."""
        return f"{self.run:<18} {self.gaps:>5} {len(self.covered):>4}/{total}"


def recall_row(
    run: str,
    gaps: pl.DataFrame,
    cut: Sequence[str],
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
) -> RecallRow:
    """The per-kind recall of one finder run."""
    found = intents_covered(gaps, cut, label_of, reference, reference_labels)
    return RecallRow(run, gaps.height, found)


def describe_gaps(
    gaps: pl.DataFrame,
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
    top: int = TOP,
) -> list[str]:
    """One line per top gap: rank, kind, score, anchor and nearest-reference majorities."""
    lines = []
    picked = gaps.sort("rank").filter(pl.col("rank") <= top)
    for row in picked.iter_rows(named=True):
        target = np.asarray(row["target"], dtype=np.float32)
        anchors = [label_of.get(a) for a in row["anchor_doc_ids"]]
        near = nearest_reference_labels(target, reference, reference_labels)
        lines.append(
            f"#{row['rank']:<3} {row['kind']:<17} {row['score']:.3f} "
            f"anchors={majority(anchors)} ref={majority(near)} | {row['rationale']}"
        )
    return lines


def describe_misses(
    gaps: pl.DataFrame,
    missed: Sequence[str],
    label_of: Mapping[str, str],
    reference: np.ndarray,
    reference_labels: Sequence[str],
    per_intent: int = 3,
) -> list[str]:
    """For each missed intent, the gaps whose targets lie closest to its reference centroid."""
    lines = []
    targets = np.asarray(gaps["target"].to_list(), dtype=np.float32).reshape(gaps.height, -1)
    ref_labels = np.array(reference_labels)
    for intent in missed:
        rows = reference[ref_labels == intent]
        centre = rows.mean(axis=0)
        centre /= max(float(np.linalg.norm(centre)), 1e-12)
        in_train = sum(1 for lab in label_of.values() if lab == intent)
        lines.append(f"missed {intent}: {rows.shape[0]} reference rows, {in_train} corpus docs")
        if not gaps.height:
            continue
        sims = targets @ centre
        for i in np.argsort(-sims)[:per_intent]:
            row = gaps.row(int(i), named=True)
            anchors = [label_of.get(a) for a in row["anchor_doc_ids"]]
            near = nearest_reference_labels(targets[i], reference, reference_labels)
            lines.append(
                f"    #{row['rank']} {row['kind']} score {row['score']:.3f} cos {sims[i]:.2f} "
                f"anchors {Counter(anchors).most_common(2)} ref {Counter(near).most_common(2)} "
                f"| {row['rationale']}"
            )
    return lines
