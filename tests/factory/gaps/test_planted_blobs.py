"""Planted holes and bridges in unit blobs, mapped by the real `build_map`, found by `find_gaps`.

No models. The planted corpus and the scoring rules are fixed in `blobs_planted` (12 blobs in
32-d; 3 holes present in the reference but cut to 5% in the corpus; 2 bridges between close
pairs of blobs with only 4 points on each segment; 20 junk outliers). The map is
`build_map(MapConfig())` and the finder `find_gaps(GapsConfig(), reference=...)`. Asserted:
recall >= 0.9 over the 5 planted structures (so all 5), and no gap anchored mostly on junk.
"""

from __future__ import annotations

import pytest

from factory.config import GapsConfig, MapConfig
from factory.gaps import GapFinding, find_gaps
from factory.mapping import MapResult, build_map
from tests.fixtures.planted_blobs import (
    BRIDGES,
    HOLES,
    PlantedBlobs,
    bridges_found,
    describe,
    holes_found,
    junk_gaps,
    make_planted_blobs,
)


@pytest.fixture(scope="module")
def planted() -> PlantedBlobs:
    """The planted blobs corpus and reference."""
    return make_planted_blobs()


@pytest.fixture(scope="module")
def mapped(planted: PlantedBlobs) -> MapResult:
    """The real semantic map of the planted corpus."""
    return build_map(planted.doc_ids, planted.splits, planted.vectors, planted.texts, MapConfig())


@pytest.fixture(scope="module")
def finding(planted: PlantedBlobs, mapped: MapResult) -> GapFinding:
    """All gap kinds on the map, with the reference."""
    return find_gaps(
        mapped.semantic_map,
        mapped.vectors,
        mapped.clusters,
        GapsConfig(),
        reference=planted.reference,
    )


def test_planted_holes_and_bridges_are_found(
    planted: PlantedBlobs, mapped: MapResult, finding: GapFinding
) -> None:
    holes = holes_found(finding.gaps, planted)
    bridges = bridges_found(finding.gaps, planted)
    found = sum(bool(r) for r in holes.values()) + sum(bool(r) for r in bridges.values())
    recall = found / (len(HOLES) + len(BRIDGES))
    print(  # the figures of this measurement (visible with -s)
        f"\nblobs: {mapped.semantic_map.height} docs, {mapped.clusters.height} clusters, noise "
        f"share {mapped.noise_share:.1%}, params {mapped.params}, map seconds "
        f"{mapped.timings['total']:.1f}\nproposed {finding.proposed}, radius "
        f"{finding.radius:.3f}, {finding.gaps.height} gaps\nholes (ranks covering) {holes}\n"
        f"bridges (ranks finding) {bridges}\nrecall {found}/5 = {recall:.2f}"
    )
    print("\n".join(describe(finding.gaps, planted)))
    assert recall >= 0.9, f"found {found}/5: holes {holes}, bridges {bridges}"


def test_no_gap_is_anchored_on_junk(planted: PlantedBlobs, finding: GapFinding) -> None:
    junk = junk_gaps(finding.gaps, planted.group_of)
    assert junk == [], f"gaps of rank {junk} are anchored mostly on junk points"
