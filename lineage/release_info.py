"""What a release says about itself: the card's identity and the run's facts, as plain data.

`CardInfo` holds what the publisher decides (name, license, languages, uses, limitations);
`ReportInfo` holds what the run measured (counts, gaps, checks, models, the map image). Entries
are `TypedDict`s, so the pipeline fills them with plain dicts. `check_info` validates both and
raises a `LineageError` that names every problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import NotRequired, TypedDict

from lineage.errors import LineageError

__all__ = [
    "CardInfo",
    "CheckEntry",
    "GapEntry",
    "ModelEntry",
    "ReleaseInfo",
    "ReportInfo",
    "SourceEntry",
    "StudentEntry",
    "check_info",
]


class SourceEntry(TypedDict):
    """One corpus source: where it came from, its license and rows ingested."""

    name: str
    uri: str
    license: str
    rows: int
    hf_id: NotRequired[str]
    license_class: NotRequired[str]


class CheckEntry(TypedDict):
    """One quality check: its result, the value observed and the threshold it was held to."""

    name: str
    family: str
    passed: bool
    observed: float | int | str | None
    threshold: float | int | str | None
    severity: NotRequired[str]


class GapEntry(TypedDict):
    """One coverage gap: id, kind, score, samples asked for and (optionally) kept."""

    gap_id: str
    kind: str
    score: float
    budget: int
    accepted: NotRequired[int]
    rationale: NotRequired[str]


class ModelEntry(TypedDict):
    """A model the run used: name and weights fingerprint (plus license, endpoint)."""

    name: str
    fingerprint: str
    license: NotRequired[str]
    endpoint: NotRequired[str]


class StudentEntry(TypedDict):
    """The trained student: base model, LoRA steps and its metric before and after."""

    base_model: str
    lora_steps: int
    metric: str
    before: float
    after: float
    eval_rows: NotRequired[int]
    checkpoint_hash: NotRequired[str]
    method: NotRequired[str]
    """How it was trained, in words (default "LoRA")."""


@dataclass
class CardInfo:
    """The publisher's choices for the dataset card (license as a Hub id, e.g. `cc-by-4.0`)."""

    pretty_name: str
    license: str
    language: list[str]
    task_categories: list[str]
    description: str = ""
    license_class: str | None = None
    intended_uses: list[str] = field(default_factory=list)
    out_of_scope_uses: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)
    personal_data: str | None = None
    maintainers: list[str] = field(default_factory=list)
    citation: str | None = None
    tags: list[str] = field(default_factory=list)


@dataclass
class ReportInfo:
    """What the run measured; `noise_share` in [0, 1], `reject_reasons` counts per reason."""

    run_id: str
    created_at: str
    task_kind: str
    documents: int
    clusters: int
    noise_share: float
    sources: list[SourceEntry]
    gaps: list[GapEntry]
    samples_accepted: int
    samples_rejected: int
    reject_reasons: dict[str, int] = field(default_factory=dict)
    methods: dict[str, int] = field(default_factory=dict)
    teacher: ModelEntry | None = None
    embedder: ModelEntry | None = None
    student: StudentEntry | None = None
    checks: list[CheckEntry] = field(default_factory=list)
    map_png: Path | None = None
    splits: dict[str, int] = field(default_factory=dict)
    quarantined: int | None = None


@dataclass(frozen=True)
class ReleaseInfo:
    """A written release: its folder, every file written and the rows per table."""

    path: Path
    files: list[Path]
    rows: dict[str, int]


_REQUIRED: dict[str, tuple[str, ...]] = {
    "sources": ("name", "uri", "license", "rows"),
    "gaps": ("gap_id", "kind", "score", "budget"),
    "checks": ("name", "family", "passed", "observed", "threshold"),
}


def check_info(card: CardInfo, report: ReportInfo) -> None:
    """Raise `LineageError` listing every missing field or inconsistent count."""
    problems: list[str] = []
    for name in ("pretty_name", "license"):
        if not str(getattr(card, name)).strip():
            problems.append(f"card.{name} is empty")
    if not card.language:
        problems.append("card.language is empty (give ISO codes such as ['en'])")
    for attr, keys in _REQUIRED.items():
        for i, entry in enumerate(getattr(report, attr)):
            missing = [k for k in keys if k not in entry]
            if missing:
                problems.append(f"report.{attr}[{i}] lacks {missing}")
    for attr in ("teacher", "embedder"):
        entry = getattr(report, attr)
        if entry is not None and not {"name", "fingerprint"} <= set(entry):
            problems.append(f"report.{attr} needs 'name' and 'fingerprint', got {sorted(entry)}")
    for attr in ("documents", "clusters", "samples_accepted", "samples_rejected"):
        if getattr(report, attr) < 0:
            problems.append(f"report.{attr} is negative: {getattr(report, attr)}")
    if not (math.isfinite(report.noise_share) and 0.0 <= report.noise_share <= 1.0):
        problems.append(f"report.noise_share must lie in [0, 1], got {report.noise_share}")
    if report.reject_reasons and sum(report.reject_reasons.values()) != report.samples_rejected:
        problems.append(
            f"report.reject_reasons sum to {sum(report.reject_reasons.values())} but "
            f"samples_rejected is {report.samples_rejected}"
        )
    if report.map_png is not None and not Path(report.map_png).is_file():
        problems.append(f"report.map_png {str(report.map_png)!r} is not a file")
    if problems:
        msg = "cannot write the release: " + "; ".join(problems)
        raise LineageError(msg)
