"""The report's outline: its ten sections in order (docs/release.md) and the closing table that
maps AI Act Art. 10(2)(a)-(h) to them.

Sections 1 to 5 are built in `lineage.release.sections_provenance`, 6 to 10 in
`lineage.release.sections_evidence`; `write_release` renders what `sections` returns with the
report's templates.

Example:
    >>> [s["title"] for s in sections(release)][:2]  # doctest: +SKIP
    ['Release identity', 'Integrity']
"""

from __future__ import annotations

from typing import Any

from lineage.release.report import Release, para, table
from lineage.release.sections_evidence import (
    composition,
    downstream_models,
    privacy,
    quality_evidence,
    uses_and_limitations,
)
from lineage.release.sections_provenance import (
    identity,
    integrity,
    lineage_graph,
    source_inventory,
    synthetic_generation,
)

__all__ = ["sections"]

_ART_10_2 = (
    ("a", "design choices", "3 Lineage graph, 5 Synthetic generation, 7 Composition"),
    ("b", "data collection processes and the origin of the data", "4 Source inventory"),
    ("c", "preparation: annotation, labelling, cleaning, updating, enrichment, aggregation",
     "5 Synthetic generation (filters), 7 Composition (quarantine, splits)"),
    ("d", "the assumptions made about the data", "9 Uses and limitations (assumptions)"),
    ("e", "availability, quantity and suitability of the data", "7 Composition, 6 Quality"),
    ("f", "examination for possible biases", "6 Quality, diversity and bias evidence"),
    ("g", "measures to detect, prevent and mitigate biases",
     "6 Quality evidence (blocking checks), 5 Synthetic generation (row filters)"),
    ("h", "data gaps and shortcomings, and how they are addressed",
     "9 Uses and limitations (data gaps), 5 Synthetic generation (gaps)"),
)  # fmt: skip


_SECTIONS = (
    ("identity", "Release identity", identity),
    ("integrity", "Integrity", integrity),
    ("lineage", "Lineage graph", lineage_graph),
    ("sources", "Source inventory", source_inventory),
    ("synthesis", "Synthetic generation", synthetic_generation),
    ("quality", "Quality, diversity and bias evidence", quality_evidence),
    ("composition", "Composition and statistics", composition),
    ("privacy", "Privacy", privacy),
    ("uses", "Uses and limitations", uses_and_limitations),
    ("downstream", "Downstream models", downstream_models),
)


def sections(r: Release) -> list[dict[str, Any]]:
    """The ten sections in order, then the Art. 10(2) table; each has an id, a number (None
    for the table), a title and its blocks."""
    out = [
        {"id": sid, "number": i, "title": title, "blocks": build(r)}
        for i, (sid, title, build) in enumerate(_SECTIONS, start=1)
    ]
    rows = [[f"10(2)({letter})", topic, where] for letter, topic, where in _ART_10_2]
    out.append(
        {
            "id": "art-10-2",
            "number": None,
            "title": "Where this report answers AI Act Art. 10(2)",
            "blocks": [
                para(
                    "Art. 10(2) asks for documented data-governance practices on the points "
                    "below (paraphrased; see the Regulation's text):"
                ),
                table("art-10-2", ["article", "practice", "answered in"], rows),
            ],
        }
    )
    return out
