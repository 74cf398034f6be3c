"""Write a release folder: Parquet tables, a Hugging Face dataset card and the run report.

Layout written by `write_release`::

    out_dir/
        data/<table>.parquet   one per table; each is a card config with a `train` split
        README.md              dataset card: YAML front matter + sections from real values
        report.html            one self-contained file (the map PNG embedded as base64)
        report.md              the same facts in Markdown
        report.json            the card and report inputs as JSON
        map.png                the semantic map, when the run produced one
        MANIFEST.sha256        SHA-256 of every file above (`sha256sum -c MANIFEST.sha256`)

A table is counted as synthetic when it has a `gap_id` column (the synthetic samples schema).
The folder loads with `datasets.load_dataset(str(out_dir), "<table>")`; the first table is the
default config.

Example:
    >>> info = write_release(out, {"synthetic": s, "train": t}, card, report)  # doctest: +SKIP
    >>> info.rows  # doctest: +SKIP
    {'synthetic': 120, 'train': 400}
"""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from lineage.errors import LineageError
from lineage.manifest import write_manifest
from lineage.release_info import CardInfo, ReleaseInfo, ReportInfo, check_info
from lineage.secrets import ensure_no_secrets
from lineage.templates import render

__all__ = ["size_category", "write_release"]

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_SIZE_BOUNDS = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
    (10_000_000_000, "1B<n<10B"),
    (100_000_000_000, "10B<n<100B"),
    (1_000_000_000_000, "100B<n<1T"),
)


def size_category(rows: int) -> str:
    """The Hugging Face `size_categories` bucket of a row count (e.g. 400 -> "n<1K")."""
    for bound, label in _SIZE_BOUNDS:
        if rows < bound:
            return label
    return "n>1T"


def _column_meanings(synthetic: bool) -> dict[str, str]:
    from factory.schemas import CORPUS_DOCUMENTS, SYNTHETIC_SAMPLES

    first, second = (
        (CORPUS_DOCUMENTS, SYNTHETIC_SAMPLES)
        if synthetic
        else (SYNTHETIC_SAMPLES, CORPUS_DOCUMENTS)
    )
    meanings = {c.name: c.meaning for c in first.columns}
    meanings.update({c.name: c.meaning for c in second.columns})
    return meanings


def _tables_context(tables: dict[str, pl.DataFrame]) -> list[dict[str, Any]]:
    out = []
    for name, frame in tables.items():
        synthetic = "gap_id" in frame.columns
        meanings = _column_meanings(synthetic)
        columns = [
            {"name": c, "dtype": str(t), "meaning": meanings.get(c, "not documented")}
            for c, t in frame.schema.items()
        ]
        out.append(
            {
                "name": name,
                "path": f"data/{name}.parquet",
                "rows": frame.height,
                "synthetic": synthetic,
                "columns": columns,
            }
        )
    return out


def _model_text(entry: dict[str, Any] | None, missing: str) -> str:
    if entry is None:
        return missing
    text = f"{entry['name']} (fingerprint {entry['fingerprint']}"
    if entry.get("license"):
        text += f", license {entry['license']}"
    if entry.get("endpoint"):
        text += f", served at {entry['endpoint']}"
    return text + ")"


def _student_text(report: ReportInfo) -> str:
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


def _limitations(card: CardInfo, report: ReportInfo, tables: list[dict[str, Any]]) -> list[str]:
    items = list(card.limitations)
    for c in report.checks:
        if not c["passed"]:
            items.append(
                f"Check {c['name']} ({c['family']}) failed: observed {c['observed']}, "
                f"threshold {c['threshold']}."
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


def _summary(card: CardInfo, report: ReportInfo, tables: list[dict[str, Any]]) -> str:
    total = sum(t["rows"] for t in tables)
    parts = ", ".join(
        f"{t['name']} ({t['rows']:,} {'synthetic' if t['synthetic'] else 'real'} rows)"
        for t in tables
    )
    sources = ", ".join(s["name"] for s in report.sources) or "no recorded source"
    teacher = report.teacher["name"] if report.teacher else "no recorded teacher"
    return (
        f"{card.pretty_name} is a {report.task_kind} dataset of {total:,} rows in "
        f"{len(tables)} {'table' if len(tables) == 1 else 'tables'}: {parts}. "
        f"The factory mapped {report.documents:,} documents "
        f"from {sources} into {report.clusters:,} clusters, found {len(report.gaps):,} coverage "
        f"gaps and kept {report.samples_accepted:,} of "
        f"{report.samples_accepted + report.samples_rejected:,} samples written by {teacher}."
    )


def _context(
    card: CardInfo, report: ReportInfo, tables: list[dict[str, Any]], map_b64: str | None
) -> dict[str, Any]:
    checks = list(report.checks)
    embedder = _model_text(report.embedder, "No embedding model was recorded for this run.")
    teacher = _model_text(report.teacher, "No teacher model was recorded for this run.")
    student = report.student
    counts = [
        ("documents", f"{report.documents:,}"),
        ("clusters", f"{report.clusters:,}"),
        ("noise share", f"{100 * report.noise_share:.1f}%"),
        ("coverage gaps", f"{len(report.gaps):,}"),
        ("samples accepted", f"{report.samples_accepted:,}"),
        ("samples rejected", f"{report.samples_rejected:,}"),
        ("training steps", f"{student['lora_steps']:,}" if student else "no student trained"),
        (
            f"{student['metric']} before → after" if student else "student metric",
            f"{student['before']:.4g} → {student['after']:.4g}" if student else "not measured",
        ),
    ]
    counts += [(f"rows in table {t['name']}", f"{t['rows']:,}") for t in tables]
    licenses = sorted({f"{s['name']}: {s['license']}" for s in report.sources})
    note = "Source licenses: " + ("; ".join(licenses) if licenses else "none recorded") + "."
    if report.teacher is not None:
        terms = report.teacher.get("license", "not recorded")
        note += f" Teacher terms ({report.teacher['name']}): {terms}."
    if any(t["synthetic"] for t in tables) and report.task_kind == "text":
        annotations = (
            f"Synthetic rows are unlabelled text machine-generated by the teacher: {teacher}."
        )
    elif any(t["synthetic"] for t in tables):
        annotations = (
            f"The text, labels and answers of synthetic rows are machine-generated by the "
            f"teacher: {teacher}."
        )
    else:
        annotations = "This release holds no synthetic rows, so nothing was machine-annotated."
    return {
        "card": card,
        "report": report,
        "tables": tables,
        "summary": _summary(card, report, tables),
        "rationale": (
            f"The factory embedded every document with the embedder, clustered the map "
            f"({report.clusters:,} clusters, {100 * report.noise_share:.1f}% noise) and asked "
            f"the teacher for samples aimed at the {len(report.gaps):,} places where the map "
            "is thin, then kept only the samples that passed its filters."
        ),
        "annotations": annotations,
        "checks": checks,
        "n_passed": sum(1 for c in checks if c["passed"]),
        "counts": counts,
        "reject_reasons": sorted(report.reject_reasons.items(), key=lambda kv: (-kv[1], kv[0])),
        "embedder_text": embedder,
        "teacher_text": teacher,
        "student_text": _student_text(report),
        "personal_data": card.personal_data
        or "No personal-data scan was run for this release: rows may carry any personal data "
        "present in the sources.",
        "limitations": _limitations(card, report, tables),
        "license_note": note,
        "map_b64": map_b64,
        "map_file": "map.png" if map_b64 else None,
    }


def _front_matter(card: CardInfo, report: ReportInfo, tables: list[dict[str, Any]]) -> str:
    total = sum(t["rows"] for t in tables)
    sources = sorted({f"extended|{s['hf_id']}" for s in report.sources if s.get("hf_id")})
    creators = ["machine-generated"] if any(t["synthetic"] for t in tables) else []
    if not all(t["synthetic"] for t in tables):
        creators.insert(0, "found")
    configs = [
        {
            "config_name": t["name"],
            "data_files": [{"split": "train", "path": t["path"]}],
            **({"default": True} if i == 0 else {}),
        }
        for i, t in enumerate(tables)
    ]
    meta: dict[str, Any] = {
        "pretty_name": card.pretty_name,
        "license": card.license,
        "language": list(card.language),
        "task_categories": list(card.task_categories),
        "size_categories": [size_category(total)],
        "annotations_creators": ["machine-generated"],
        "language_creators": creators,
        "source_datasets": ["original", *sources],
        "tags": sorted({"synthetic", *card.tags}),
        "configs": configs,
    }
    import yaml

    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True) + "---\n\n"


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _check_out_dir(out_dir: Path, tables: dict[str, pl.DataFrame]) -> None:
    bad = [n for n in tables if not _TABLE_NAME.match(n)]
    if not tables or bad:
        msg = f"table names must be lower-case identifiers like 'synthetic', got {sorted(tables)}"
        raise LineageError(msg)
    data = out_dir / "data"
    stale = sorted(p.name for p in data.glob("*.parquet") if p.stem not in tables)
    if stale:
        msg = f"{data} already holds other tables {stale}; write the release to a fresh folder"
        raise LineageError(msg)


def write_release(
    out_dir: Path, tables: dict[str, pl.DataFrame], card: CardInfo, report: ReportInfo
) -> ReleaseInfo:
    """Write Parquet tables, README.md card, report.html/.md/.json, map.png and the manifest
    into `out_dir`."""
    out_dir = Path(out_dir)
    check_info(card, report)
    facts: dict[str, Any] = _json_safe({"card": asdict(card), "report": asdict(report)})
    facts["report"]["map_png"] = "map.png" if report.map_png is not None else None
    ensure_no_secrets(facts, "release")
    _check_out_dir(out_dir, tables)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    for name, frame in tables.items():
        path = out_dir / "data" / f"{name}.parquet"
        frame.write_parquet(path, compression="zstd", statistics=True)
        files.append(path)
    map_b64 = None
    if report.map_png is not None:
        raw = Path(report.map_png).read_bytes()
        if not raw.startswith(_PNG_MAGIC):
            msg = f"report.map_png {str(report.map_png)!r} is not a PNG file; save the map as PNG"
            raise LineageError(msg)
        map_b64 = base64.b64encode(raw).decode("ascii")
        shutil.copyfile(report.map_png, out_dir / "map.png")
        files.append(out_dir / "map.png")
    context = _context(card, report, _tables_context(tables), map_b64)
    outputs = {
        "README.md": _front_matter(card, report, context["tables"]) + render("card.md", context),
        "report.md": render("report.md", context),
        "report.html": render("report.html", context),
        "report.json": json.dumps(
            facts, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
        )
        + "\n",
    }
    for name, text in outputs.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        files.append(out_dir / name)
    files.append(write_manifest(out_dir))
    return ReleaseInfo(
        path=out_dir, files=sorted(files), rows={n: f.height for n, f in tables.items()}
    )
