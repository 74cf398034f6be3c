"""What the report's sections are made of: the release's facts (`Release`), the block
constructors and the sentences the card, the report and the Croissant RAI fields share.

A section is a list of blocks (`para`, `bullets`, `table`, `code`, and the `svg` and `image`
blocks) that the templates render as HTML and Markdown. `lineage.release.sections` lists the
sections in order; `lineage.release.sections_provenance` and `lineage.release.sections_evidence`
build them. `model_text`, `student_text`, `limitations`, `rationale`, `join` and `must_be` are the
sentences the card (`lineage.release.card`) and Croissant (`lineage.release.croissant`) reuse.

Example:
    >>> table("counts", ["measure", "value"], [["rows", 1200]], {1})["rows"]
    [['rows', '1,200']]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage.release.info import CardInfo, ReportInfo
from lineage.release.templates import format_value

__all__ = [
    "OPENLINEAGE_NAME",
    "SVG_NAME",
    "Release",
    "bullets",
    "code",
    "join",
    "limitations",
    "model_text",
    "must_be",
    "para",
    "pct",
    "rationale",
    "student_text",
    "table",
]

OPENLINEAGE_NAME = "openlineage.jsonl"
"""The release's copy of its layers' OpenLineage events (written by `lineage.release.writer`)."""
SVG_NAME = "lineage.svg"
"""The lineage picture the report shows, also written as a file of the release."""


@dataclass(frozen=True)
class Release:
    """Everything the report's sections, the card's context and the Croissant facts read."""

    version: str
    card: CardInfo
    report: ReportInfo
    tables: list[dict[str, Any]]
    derived: dict[str, Any]
    files: list[str]
    events: int
    svg: str
    map_b64: str | None
    ledger_head: dict[str, Any] | None = None
    """The project ledger's last record (seq, hash) when the release was written, if recorded."""


def para(text: str) -> dict[str, Any]:
    """A paragraph block."""
    return {"kind": "p", "text": text}


def bullets(items: list[str]) -> dict[str, Any]:
    """A bulleted-list block."""
    return {"kind": "list", "items": items}


def table(
    table_id: str,
    head: list[str],
    rows: list[list[Any]],
    num: frozenset[int] | set[int] = frozenset(),
) -> dict[str, Any]:
    """A table block; cells are formatted with `format_value`, the columns in `num` are
    numeric (right-aligned in HTML)."""
    return {
        "kind": "table",
        "id": table_id,
        "head": head,
        "rows": [[format_value(c) for c in row] for row in rows],
        "num": [i in num for i in range(len(head))],
    }


def code(text: str) -> dict[str, Any]:
    """A preformatted-text block."""
    return {"kind": "code", "text": text}


def pct(value: float) -> str:
    """A share as a percentage with one decimal (0.125 -> "12.5%")."""
    return f"{100 * value:.1f}%"


def join(items: list[str], empty: str) -> str:
    """`items` joined with commas, or `empty` when there are none."""
    return ", ".join(items) if items else empty


def model_text(entry: dict[str, Any] | None, missing: str) -> str:
    """A model's name, fingerprint, license and endpoint in one phrase, or `missing`."""
    if entry is None:
        return missing
    text = f"{entry['name']} (fingerprint {entry['fingerprint']}"
    if entry.get("license"):
        text += f", license {entry['license']}"
    if entry.get("endpoint"):
        text += f", served at {entry['endpoint']}"
    return text + ")"


def student_text(report: ReportInfo) -> str:
    """The student's training and its metric before and after, in one sentence."""
    s = report.student
    if s is None:
        return "No student was trained in this run."
    fmt = "{:.4g}"
    text = (
        f"{s['base_model']} fine-tuned with {s.get('method', 'LoRA')} for {s['lora_steps']:,} "
        f"steps: {s['metric']} "
        f"{fmt.format(s['before'])} before → {fmt.format(s['after'])} after"
    )
    if s.get("eval_rows") is not None:
        text += f" on {s['eval_rows']:,} held-out rows"
    return text + "."


def limitations(card: CardInfo, report: ReportInfo, tables: list[dict[str, Any]]) -> list[str]:
    """The publisher's limitations plus failed checks, short gaps, machine-written rows and a
    missing student."""
    items = list(card.limitations)
    for c in report.checks:
        if not c["passed"]:
            items.append(
                f"Check {c['name']} ({c['family']}) failed: observed "
                f"{format_value(c['observed'])}, threshold {format_value(c['threshold'])}."
            )
    for g in report.gaps:
        accepted = g.get("accepted")
        if accepted is not None and accepted < g["budget"]:
            items.append(
                f"Gap {g['gap_id'][:12]} ({g['kind']}) received {accepted} of the "
                f"{g['budget']} samples asked for."
            )
    if any(t["synthetic"] for t in tables):
        teacher = report.teacher["name"] if report.teacher else "an unrecorded teacher"
        items.append(
            f"Synthetic rows were written by {teacher} and kept by automatic filters; "
            + ("their text is" if report.task_kind == "text" else "their text and labels are")
            + " machine-generated."
        )
    if report.student is None:
        items.append("No student was trained, so the effect of the data on a model is unmeasured.")
    return items or ["No limitation was recorded for this run."]


def rationale(report: ReportInfo) -> str:
    """Why the release holds synthetic rows: the map, its gaps and the filters."""
    return (
        f"The factory embedded every document with the embedder, clustered the map "
        f"({report.clusters:,} clusters, {100 * report.noise_share:.1f}% noise) and asked "
        f"the teacher for samples aimed at the {len(report.gaps):,} places where the map "
        "is thin, then kept only the samples that passed its filters."
    )


def must_be(c: dict[str, Any]) -> str:
    """A check's bound in words ("at most 0.05")."""
    word = {"max": "at most ", "min": "at least "}.get(c.get("bound") or "", "")
    return word + format_value(c["threshold"])
