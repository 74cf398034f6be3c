"""Planted gaps on banking77 with the real MiniLM: does the gap finder find intents we cut out?

The rules were fixed before measuring and are not tuned toward a result (see `banking_planted`):
banking77 `train.csv` only; `default_rng(77)` holds out a 15% unlabelled reference first, then
cuts 10 intents (drawn from the sorted categories) to a random 10% of their remaining rows. The
factory sees text only, ingested from a one-column CSV by `ingest_corpus`; the corpus and the
reference are embedded with all-MiniLM-L6-v2, mapped by `build_map(MapConfig())` and searched by
`find_gaps` with `reference=Reference(content hashes, vectors)`.

A gap covers an intent when strictly more than half of its anchors, or of the (at most 10)
reference points nearest its target, carry it. Asserted:

1. Without labels, `GapsConfig()`: the top 20 gaps cover at least 8 of the 10 cut intents. The
   same count for single-kind runs (coverage, sparse_region, bridge) is printed, not asserted.
2. With `labels={doc_id: category}` and `GapsConfig(target_mix="uniform")`: all 10.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from factory.config import FactoryConfig, GapsConfig, MapConfig
from factory.corpus import ingest_corpus, normalize_text
from factory.embedding.base import Embedder
from factory.gaps import BRIDGE, COVERAGE, SPARSE_REGION, GapFinding, Reference, find_gaps
from factory.mapping import MapResult, build_map
from tests.fixtures.planted_banking import (
    CUT_INTENTS,
    TOP,
    PlantedBanking,
    RecallRow,
    describe_gaps,
    describe_misses,
    doc_id_of,
    labels_by_doc_id,
    plant,
    read_train_rows,
    recall_row,
    write_text_csv,
)

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class MappedBanking:
    """The planted corpus after ingestion, embedding and mapping, with its hidden labels."""

    planted: PlantedBanking
    mapped: MapResult
    reference: Reference
    label_of: dict[str, str]
    quarantined: int
    seconds: dict[str, float]

    def find(self, config: GapsConfig, *, labelled: bool = False) -> GapFinding:
        """`find_gaps` on the map with the reference; labels only when `labelled`."""
        return find_gaps(
            self.mapped.semantic_map,
            self.mapped.vectors,
            self.mapped.clusters,
            config,
            reference=self.reference,
            labels=self.label_of if labelled else None,
        )

    def recall(self, run: str, finding: GapFinding) -> RecallRow:
        """Cut intents covered by the top gaps of one run."""
        return recall_row(
            run,
            finding.gaps,
            self.planted.cut,
            self.label_of,
            self.reference.vectors,
            self.planted.reference_labels,
        )


@pytest.fixture(scope="module")
def planted_banking(
    banking77_dir: Path, minilm: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> MappedBanking:
    """Plant, ingest (text only), embed and map banking77 once for the module."""
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    planted = plant(*read_train_rows(banking77_dir / "train.csv"))
    folder = tmp_path_factory.mktemp("planted_banking")
    csv_path = write_text_csv(folder / "corpus.csv", planted.corpus_texts)
    config = FactoryConfig.from_dict(
        {
            "sources": [
                {
                    "id": "banking77-planted",
                    "kind": "csv",
                    "path": str(csv_path),
                    "license": "CC-BY-4.0",
                }
            ]
        },
        base_dir=folder,
    )
    ingested = ingest_corpus(config)
    docs = ingested.documents
    seconds["ingest"] = time.perf_counter() - start

    start = time.perf_counter()
    ref_texts = [normalize_text(t) for t in planted.reference_texts]
    vectors = minilm.embed(docs["text"].to_list() + ref_texts)
    corpus_vectors, ref_vectors = vectors[: docs.height], vectors[docs.height :]
    seconds["embed"] = time.perf_counter() - start

    start = time.perf_counter()
    mapped = build_map(
        docs["doc_id"].to_list(),
        docs["split"].to_list(),
        corpus_vectors,
        docs["text"].to_list(),
        MapConfig(),
    )
    seconds["map"] = time.perf_counter() - start
    return MappedBanking(
        planted=planted,
        mapped=mapped,
        reference=Reference(ids=[doc_id_of(t) for t in ref_texts], vectors=ref_vectors),
        label_of=labels_by_doc_id(planted.corpus_texts, planted.corpus_labels),
        quarantined=ingested.quarantine.height,
        seconds=seconds,
    )


def _report(
    planted_banking: MappedBanking, title: str, rows: list[RecallRow], full: GapFinding
) -> None:
    """Print the figures of one measurement (visible with -s)."""
    mapped, planted = planted_banking.mapped, planted_banking.planted
    split_counts = mapped.semantic_map["split"].value_counts(sort=True).rows()
    print(f"\n== {title} ==")
    print(
        f"corpus {mapped.semantic_map.height} docs {split_counts} ({planted_banking.quarantined} "
        f"quarantined), reference {len(planted.reference_texts)}, clusters "
        f"{mapped.clusters.height}, noise share {mapped.noise_share:.1%}, params {mapped.params}"
    )
    print(f"seconds { {k: round(v, 1) for k, v in planted_banking.seconds.items()} }")
    print(f"cut intents: {planted.cut}")
    print(f"{'run':<18} {'gaps':>5} {'top' + str(TOP):>6}")
    for row in rows:
        print(row.line(CUT_INTENTS))
    print(f"full run proposed {full.proposed}, radius {full.radius:.3f}, notes {full.notes}")
    args = (planted_banking.label_of, planted_banking.reference.vectors, planted.reference_labels)
    print("\n".join(describe_gaps(full.gaps, *args)))
    missed = sorted(set(planted.cut) - rows[0].covered)
    print("\n".join(describe_misses(full.gaps, missed, *args)))


def test_unlabelled_top_gaps_cover_the_cut_intents(planted_banking: MappedBanking) -> None:
    full = planted_banking.find(GapsConfig())
    rows = [planted_banking.recall("all kinds", full)]
    for kind in (COVERAGE, SPARSE_REGION, BRIDGE):
        rows.append(planted_banking.recall(kind, planted_banking.find(GapsConfig(kinds=[kind]))))
    _report(planted_banking, "unlabelled, GapsConfig()", rows, full)
    covered = rows[0].covered
    missed = sorted(set(planted_banking.planted.cut) - covered)
    assert len(covered) >= 8, f"top {TOP} gaps cover {len(covered)}/10 cut intents; missed {missed}"


def test_labelled_uniform_mix_covers_every_cut_intent(planted_banking: MappedBanking) -> None:
    full = planted_banking.find(GapsConfig(target_mix="uniform"), labelled=True)
    rows = [planted_banking.recall("all kinds + labels", full)]
    _report(planted_banking, "labels, target_mix='uniform'", rows, full)
    covered = rows[0].covered
    missed = sorted(set(planted_banking.planted.cut) - covered)
    assert len(covered) == CUT_INTENTS, (
        f"top {TOP} gaps cover {len(covered)}/10 cut intents; missed {missed}"
    )
