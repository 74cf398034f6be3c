"""What a release says about itself: the card's identity and the run's facts, as plain data.

`CardInfo` holds what the publisher decides (name, license, declared use, uses, maintainers);
`ReportInfo` holds what the run measured (counts, gaps, checks, models, layers, privacy scan, the
map image). Entries are `TypedDict`s, so the pipeline fills them with plain dicts. `check_info`
validates both and raises a `LineageError` that names every problem. `layers_from_ledger` picks,
from the project ledger, the materializations that made the tables a release was built from.

Example:
    >>> records = [{"kind": "materialization", "recorded_at": "2026-11-24T10:00:00+00:00",
    ...             "body": {"asset": "corpus_documents", "dagster_run_id": "r1",
    ...                      "code_version": "corpus-v3", "inputs": {},
    ...                      "outputs": {"corpus_documents": {"data_version": "ab", "rows": 4}}}}]
    >>> [(x["table"], x["run_id"], x["rows"]) for x in layers_from_ledger(
    ...     records, {"corpus_documents": "ab"})]
    [('corpus_documents', 'r1', 4)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from lineage.errors import LineageError
from lineage.release.licenses import LICENSE_CLASSES, USES, license_terms

__all__ = [
    "CardInfo",
    "CheckEntry",
    "ExclusionEntry",
    "GapEntry",
    "LayerEntry",
    "ModelEntry",
    "PrivacyEntry",
    "ReleaseInfo",
    "ReportInfo",
    "ScanEntry",
    "SigningEntry",
    "SourceEntry",
    "StudentEntry",
    "check_info",
    "layers_from_ledger",
]


class SourceEntry(TypedDict):
    """One corpus source: where it came from, its license and rows ingested."""

    name: str
    uri: str
    license: str
    rows: int
    hf_id: NotRequired[str]
    license_class: NotRequired[str]
    """Filled by `write_release` from `license` (`licenses.license_terms`); must agree if given."""
    version: NotRequired[str]
    """Content hash of the rows taken from the source (e.g. a fingerprint of their ids)."""
    personal_data: NotRequired[str]
    """What is known about personal data in the source, in words."""
    purpose: NotRequired[str]
    """Why the source is in the release, in words."""
    splits: NotRequired[dict[str, int]]


class CheckEntry(TypedDict):
    """One quality check: its result, the value observed and the threshold it was held to."""

    name: str
    family: str
    passed: bool
    observed: float | int | str | None
    threshold: float | int | str | None
    severity: NotRequired[str]
    blocking: NotRequired[bool]
    """True: a failure stops the release from being published (error); False: a warning."""
    applicable: NotRequired[bool]
    bound: NotRequired[str]
    """`max` (observed must be at most the threshold) or `min` (at least)."""
    description: NotRequired[str]


class GapEntry(TypedDict):
    """One coverage gap: id, kind, score, samples asked for and (optionally) kept."""

    gap_id: str
    kind: str
    score: float
    budget: int
    accepted: NotRequired[int]
    rationale: NotRequired[str]
    cluster_id: NotRequired[int | None]


class ModelEntry(TypedDict):
    """A model the run used: name and weights fingerprint (plus license, endpoint)."""

    name: str
    fingerprint: str
    license: NotRequired[str]
    """License or terms id of the model's outputs (e.g. apache-2.0, openai-terms)."""
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
    base_model_fingerprint: NotRequired[str]
    training_data_version: NotRequired[str]
    train_rows: NotRequired[int]
    synthetic_rows: NotRequired[int]


class LayerEntry(TypedDict):
    """One table the release was built from, as the project ledger recorded its making."""

    table: str
    asset: str
    """The step that wrote it (the ledger record's `asset`)."""
    run_id: str
    """The Dagster run of that step."""
    code_version: str
    data_version: str | None
    inputs: dict[str, str | None]
    """Input table -> the data version it had."""
    rows: NotRequired[int | None]
    openlineage_run_id: NotRequired[str]
    recorded_at: NotRequired[str]
    models: NotRequired[dict[str, Any]]


class SigningEntry(TypedDict):
    """How the release folder is signed (the signature is added after `write_release`)."""

    public_key_fingerprint: str
    signature_file: str
    public_key_file: str
    method: str


class ExclusionEntry(TypedDict):
    """A document or source left out of the release, and what that removed."""

    query: str
    """The doc_id or source_id given to `factory release --exclude`."""
    kind: str
    """`document` or `source`."""
    documents: int
    """Real rows of the corpus it names (none of them is released)."""
    synthetic_samples: int
    """Synthetic rows derived from them (parents or failures answered), all left out."""
    reason: NotRequired[str | None]


class ScanEntry(TypedDict):
    """One personal-data scan: rows scanned, rows with a match and matches per kind."""

    rows: int
    rows_with_pii: int
    matches: dict[str, int]
    what: str
    """Which rows, in words (e.g. "the released real train rows")."""


class PrivacyEntry(TypedDict):
    """The personal-data scans of a release and what they did not cover."""

    method: str
    scans: list[ScanEntry]
    filter_action: NotRequired[str]
    """`filter` (rows with personal data are rejected) or `redact` (matches replaced)."""
    filtered_rows: NotRequired[int]
    """Candidate synthetic rows the personal-data row filter rejected."""
    not_scanned: NotRequired[list[str]]
    sent_off_machine: NotRequired[list[str]]
    """What data went to which non-loopback endpoint; empty: none left the machine."""


@dataclass
class CardInfo:
    """The publisher's choices for the dataset card (license as a Hub id, e.g. `cc-by-4.0`).

    `license_class` is the release's use class (`licenses.LICENSE_CLASSES`); left None,
    `write_release` derives it (the most restrictive of the sources' and the teacher's classes)
    or takes `license_override`, which needs `license_override_reason`.
    """

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
    declared_use: str | None = None
    license_override: str | None = None
    license_override_reason: str | None = None
    maintenance_plan: str | None = None


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
    layers: list[LayerEntry] = field(default_factory=list)
    signing: SigningEntry | None = None
    privacy: PrivacyEntry | None = None
    filters: list[str] = field(default_factory=list)
    """The row filters applied to synthetic candidates, in order."""
    collection_period: list[str] | None = None
    """First and last time a real row was ingested (ISO 8601)."""
    openlineage_log: Path | None = None
    """The project's OpenLineage event file; the events of `layers`' runs are copied."""
    exclusions: list[ExclusionEntry] = field(default_factory=list)
    """Documents and sources taken out of this release (a takedown or a revoked license)."""


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
    "layers": ("table", "asset", "run_id", "code_version", "data_version", "inputs"),
}
_SIGNING_KEYS = frozenset(SigningEntry.__annotations__)


def _card_problems(card: CardInfo) -> list[str]:
    problems = []
    for name in ("pretty_name", "license"):
        if not str(getattr(card, name)).strip():
            problems.append(f"card.{name} is empty")
    if not card.language:
        problems.append("card.language is empty (give ISO codes such as ['en'])")
    for name in ("license_class", "license_override"):
        value = getattr(card, name)
        if value is not None and value not in LICENSE_CLASSES:
            problems.append(f"card.{name} is {value!r}; use one of {list(LICENSE_CLASSES)}")
    if card.license_override is not None and not (card.license_override_reason or "").strip():
        problems.append(
            f"card.license_override is {card.license_override!r} but license_override_reason is "
            "empty; say why the override holds"
        )
    if card.declared_use is not None and card.declared_use not in USES:
        problems.append(f"card.declared_use is {card.declared_use!r}; use one of {list(USES)}")
    return problems


def _report_problems(report: ReportInfo) -> list[str]:
    problems = []
    for attr, keys in _REQUIRED.items():
        for i, entry in enumerate(getattr(report, attr)):
            missing = [k for k in keys if k not in entry]
            if missing:
                problems.append(f"report.{attr}[{i}] lacks {missing}")
    for i, source in enumerate(report.sources):
        given = source.get("license_class")
        derived = license_terms(source.get("license")).use_class
        if given is not None and given != derived:
            problems.append(
                f"report.sources[{i}].license_class is {given!r} but license "
                f"{source.get('license')!r} is {derived!r}; leave license_class out"
            )
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
    for attr in ("map_png", "openlineage_log"):
        path = getattr(report, attr)
        if path is not None and not Path(path).is_file():
            problems.append(f"report.{attr} {str(path)!r} is not a file")
    if report.signing is not None and set(report.signing) != _SIGNING_KEYS:
        problems.append(
            f"report.signing needs exactly {sorted(_SIGNING_KEYS)}, got {sorted(report.signing)}"
        )
    if report.collection_period is not None and len(report.collection_period) != 2:
        problems.append(
            f"report.collection_period must be [first, last], got {report.collection_period!r}"
        )
    return problems


def check_info(card: CardInfo, report: ReportInfo) -> None:
    """Raise `LineageError` listing every missing field or inconsistent count."""
    problems = _card_problems(card) + _report_problems(report)
    if problems:
        msg = "cannot write the release: " + "; ".join(problems)
        raise LineageError(msg)


def _producer(
    records: list[dict[str, Any]], table: str, version: str | None
) -> dict[str, Any] | None:
    """The latest materialization record that wrote `table` at `version` (any, when None)."""
    for record in reversed(records):
        if record.get("kind") != "materialization":
            continue
        out = (record.get("body", {}).get("outputs") or {}).get(table)
        if out is not None and (version is None or out.get("data_version") == version):
            return record
    return None


def layers_from_ledger(
    records: list[dict[str, Any]], wanted: dict[str, str | None]
) -> list[LayerEntry]:
    """The ledger's record of every table behind `wanted` (table -> data version), walking back
    through each record's inputs; earliest layer first. Tables the ledger never wrote at that
    version are left out (the report then lists the input without a layer)."""
    found: dict[tuple[str, str | None], LayerEntry] = {}
    order: list[tuple[str, str | None]] = []
    todo = list(wanted.items())
    while todo:
        table, version = todo.pop()
        if (table, version) in found:
            continue
        record = _producer(records, table, version)
        if record is None:
            continue
        body = record["body"]
        out = body["outputs"][table]
        key = (table, out.get("data_version"))
        if key in found:
            continue
        inputs = {str(k): v for k, v in (body.get("inputs") or {}).items()}
        entry: LayerEntry = {
            "table": table,
            "asset": str(body.get("asset", table)),
            "run_id": str(body.get("dagster_run_id", "")),
            "code_version": str(body.get("code_version", "")),
            "data_version": out.get("data_version"),
            "inputs": inputs,
            "rows": out.get("rows"),
            "recorded_at": str(record.get("recorded_at", "")),
            "models": dict(body.get("models") or {}),
        }
        if body.get("openlineage_run_id"):
            entry["openlineage_run_id"] = str(body["openlineage_run_id"])
        found[key] = entry
        order.append(key)
        todo.extend(inputs.items())
    return sorted(
        (found[key] for key in order), key=lambda e: (e.get("recorded_at", ""), e["table"])
    )
