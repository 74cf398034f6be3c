"""Write a release folder: Parquet tables, the dataset card, the provenance files and the report.

Layout written by `write_release`::

    out_dir/
        data/<table>.parquet   one per table; each is a card config with a `train` split
        README.md              dataset card: YAML front matter + sections from real values
        report.html            the provenance report, one self-contained file (images inline)
        report.md              the same report in Markdown
        report.json            the card, the run's facts and the derived release facts as JSON
        croissant.json         Croissant 1.1 + RAI + PROV metadata (`lineage.croissant`)
        provenance.prov.json   W3C PROV-JSON of the layers, runs, models and agents
        openlineage.jsonl      the OpenLineage events of the layers' runs (when recorded)
        lineage.svg            the lineage picture the report shows
        map.png                the semantic map, when the run produced one
        MANIFEST.sha256        SHA-256 of every file above (`sha256sum -c MANIFEST.sha256`)

The report's ten sections (docs/release.md) and its AI Act Art. 10(2) table are built by
`lineage.report`. The release's license class is the most restrictive of the sources' and the
teacher's (`lineage.licenses`), unless the card gives an override with a reason; both are stated.
A table is counted as synthetic when it has a `gap_id` column. The folder loads with
`datasets.load_dataset(str(out_dir), "<table>")`.

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
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import polars as pl

from lineage.croissant import CROISSANT_NAME, CroissantMeta, write_croissant
from lineage.errors import LineageError
from lineage.ledger import read_jsonl
from lineage.licenses import USES, license_terms, most_restrictive, use_allowed
from lineage.manifest import file_sha256, write_manifest
from lineage.prov_export import PROV_NAME, release_prov, write_prov
from lineage.release_info import CardInfo, ReleaseInfo, ReportInfo, check_info
from lineage.render import lineage_svg
from lineage.report import (
    OPENLINEAGE_NAME,
    SVG_NAME,
    Release,
    join,
    limitations,
    model_text,
    must_be,
    rationale,
    sections,
    student_text,
)
from lineage.secrets import ensure_no_secrets
from lineage.templates import format_value, render

__all__ = ["OPENLINEAGE_NAME", "SVG_NAME", "release_license", "size_category", "write_release"]

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
_SIGNED_FILES = ("signature.sig", "signing-key.pub")
"""Added by signing after `write_release`; dropped when a folder is written again."""


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


def release_license(card: CardInfo, report: ReportInfo) -> dict[str, Any]:
    """The release's license facts: each source's and the teacher's use class, the derived
    (most restrictive) class, the override and its reason, the release class and whether the
    declared use is allowed. Raises when `card.license_class` contradicts them."""
    entries = []
    for s in report.sources:
        terms = license_terms(s["license"])
        entries.append(
            {"what": f"source {s['name']}", "license": s["license"], "class": terms.use_class,
             "attribution": terms.attribution, "share_alike": terms.share_alike,
             "known": terms.known}
        )  # fmt: skip
    if report.teacher is not None:
        terms = license_terms(report.teacher.get("license"))
        entries.append(
            {"what": f"teacher {report.teacher['name']} (output terms)",
             "license": report.teacher.get("license") or "not recorded",
             "class": terms.use_class, "attribution": terms.attribution,
             "share_alike": terms.share_alike, "known": terms.known}
        )  # fmt: skip
    derived = most_restrictive(e["class"] for e in entries)
    release_class = card.license_override or derived
    if card.license_class is not None and card.license_class != release_class:
        msg = (
            f"card.license_class is {card.license_class!r} but the sources and teacher terms give "
            f"{derived!r}"
            + (f" and the override is {card.license_override!r}" if card.license_override else "")
            + "; leave license_class unset to derive it, or set license_override with a reason"
        )
        raise LineageError(msg)
    use = card.declared_use
    return {
        "entries": entries,
        "derived_class": derived,
        "override": card.license_override,
        "override_reason": card.license_override_reason,
        "release_class": release_class,
        "declared_use": use,
        "use_allowed": None if use is None else use_allowed(release_class, use),
        "allowed_uses": [u for u in USES if use_allowed(release_class, u)],
        "attribution": any(e["attribution"] for e in entries),
        "share_alike": any(e["share_alike"] for e in entries),
    }


def _synthesis_facts(frames: list[pl.DataFrame]) -> dict[str, Any]:
    """What the synthetic tables record about how they were made (None: not recorded)."""
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def distinct(column: str) -> list[str] | None:
        if column not in frame.columns:
            return None
        return sorted(str(v) for v in frame[column].drop_nulls().unique().to_list())

    seeds = None
    if "seed" in frame.columns and frame.height:
        s = frame["seed"].drop_nulls()
        seeds = {"count": s.n_unique(), "min": s.min(), "max": s.max()} if s.len() else None
    return {
        "rows": frame.height,
        "prompt_template_hashes": distinct("prompt_template_hash"),
        "sampling_params": distinct("sampling_params"),
        "teacher_fingerprints": distinct("teacher_fingerprint"),
        "seeds": seeds,
        "rounds": distinct("round"),
    }


def _labels(tables: dict[str, pl.DataFrame]) -> dict[str, dict[str, int]]:
    out = {}
    for name, frame in tables.items():
        if "label" in frame.columns and frame["label"].drop_nulls().len():
            counts = frame["label"].drop_nulls().value_counts(sort=True)
            out[name] = dict(zip(counts["label"].to_list(), counts["count"].to_list(), strict=True))
    return out


def _derived(
    version: str, tables: dict[str, pl.DataFrame], card: CardInfo, report: ReportInfo
) -> dict[str, Any]:
    """Facts computed from the tables and the report, stored in report.json as `release`."""
    synthetic = {n: f for n, f in tables.items() if "gap_id" in f.columns}
    total = sum(f.height for f in tables.values())
    n_synth = sum(f.height for f in synthetic.values())
    checks = report.checks
    failed = [c for c in checks if not c["passed"]]
    covered = [g for g in report.gaps if (g.get("accepted") or 0) > 0]
    clusters = {g.get("cluster_id") for g in covered} - {None, -1}
    has_clusters = any("cluster_id" in g for g in report.gaps)
    return {
        "version": version,
        "rows": {n: f.height for n, f in tables.items()},
        "synthetic_tables": sorted(synthetic),
        "total_rows": total,
        "synthetic_rows": n_synth,
        "real_rows": total - n_synth,
        "synthetic_share": n_synth / total if total else 0.0,
        "checks_total": len(checks),
        "checks_passed": len(checks) - len(failed),
        "checks_failed": len(failed),
        "blocking_failed": sum(1 for c in failed if c.get("blocking") is True),
        "gaps_total": len(report.gaps),
        "gaps_covered": len(covered),
        "samples_asked": sum(int(g["budget"]) for g in report.gaps),
        "clusters_covered": len(clusters) if has_clusters else None,
        "synthesis": _synthesis_facts(list(synthetic.values())),
        "labels": _labels(tables),
        "license": release_license(card, report),
    }


def _copy_events(log: Path | None, run_ids: set[str], out_dir: Path) -> int:
    """Copy the OpenLineage events of `run_ids` from `log` into the release; how many."""
    if log is None or not run_ids:
        return 0
    events = read_jsonl(Path(log), "event log", "the log is damaged")
    kept = [line for line, event in events if (event.get("run") or {}).get("runId") in run_ids]
    if kept:
        (out_dir / OPENLINEAGE_NAME).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(kept)


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


def _personal_data(card: CardInfo, report: ReportInfo) -> str:
    if card.personal_data:
        return card.personal_data
    privacy = report.privacy
    if privacy is None:
        return (
            "No personal-data scan was recorded for this release: rows may carry any personal "
            "data present in the sources."
        )
    scans = "; ".join(
        f"{s['what']}: {s['rows_with_pii']:,} of {s['rows']:,} rows matched"
        for s in privacy["scans"]
    )
    return f"Scanned with {privacy['method']}. Results: {scans or 'no rows were scanned'}."


def _card_context(card: CardInfo, report: ReportInfo, r: Release) -> dict[str, Any]:
    checks = list(report.checks)
    tables = r.tables
    teacher = model_text(report.teacher, "No teacher model was recorded for this run.")
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
        "version": r.version,
        "summary": _summary(card, report, tables),
        "rationale": rationale(report),
        "annotations": annotations,
        "checks": checks,
        "n_passed": sum(1 for c in checks if c["passed"]),
        "reject_reasons": sorted(report.reject_reasons.items(), key=lambda kv: (-kv[1], kv[0])),
        "embedder_text": model_text(report.embedder, "No embedding model was recorded."),
        "teacher_text": teacher,
        "student_text": student_text(report),
        "personal_data": _personal_data(card, report),
        "limitations": limitations(card, report, tables),
        "license": r.derived["license"],
        "sections": sections(r),
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
    if isinstance(value, Path):
        return value.name
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


def _factory_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("factory-data")
    except PackageNotFoundError:
        return "unknown"


def _rai(r: Release, personal: str) -> dict[str, Any]:
    """The Croissant RAI fields, in words, from the same facts as the report."""
    report, d, card = r.report, r.derived, r.card
    sources = join([f"{s['name']} ({s['uri']}, {s['rows']:,} rows)" for s in report.sources],
                    "no recorded source")  # fmt: skip
    bias = [c for c in report.checks if c["family"] == "bias"]
    bias_text = join(
        [f"{c['name']}: observed {format_value(c['observed'])}, must be {must_be(c)}, "
         f"{'passed' if c['passed'] else 'failed'}" for c in bias],
        "no bias check was run",
    )  # fmt: skip
    tools = [model_text(m, "") for m in (report.teacher, report.embedder) if m is not None]
    period = report.collection_period
    student = student_text(report)
    rai: dict[str, Any] = {
        "dataCollection": (
            f"Real rows read from {sources} by the factory's ingest step. Synthetic rows "
            f"({d['synthetic_rows']:,}) written by a teacher model for {d['gaps_total']} coverage "
            "gaps of the corpus's embedding map and kept by automatic row filters."
        ),
        "dataCollectionType": ["Secondary data (existing datasets)", "Synthetic data generation"]
        if d["synthetic_rows"]
        else ["Secondary data (existing datasets)"],
        "dataPreprocessingProtocol": (
            "Text normalized (NFC, collapsed whitespace), identified by content hash, "
            "de-duplicated and split by hash into train, validation and test; "
            + (
                f"{report.quarantined:,} unreadable or rejected rows quarantined with a reason; "
                if report.quarantined is not None
                else ""
            )
            + "every document embedded and clustered into a semantic map."
        ),
        "dataManipulationProtocol": (
            "Synthetic rows generated by "
            + join([f"{k} ({v:,})" for k, v in sorted(report.methods.items())], "no method")
            + "; row filters in order: "
            + join(report.filters, "not recorded")
            + f"; {report.samples_rejected:,} candidates rejected."
        ),
        "machineAnnotationTools": tools or ["none: the release holds no machine-written rows"],
        "dataBiases": f"Bias checks on the synthetic rows: {bias_text}.",
        "dataLimitations": limitations(card, report, r.tables),
        "dataUseCases": (card.intended_uses or ["no intended use stated"])
        + [
            f"license use class {d['license']['release_class']}; allowed uses: "
            f"{join(d['license']['allowed_uses'], 'none')}"
        ],
        "personalSensitiveInformation": personal,
        "dataSocialImpact": (
            f"The release adds {d['synthetic_rows']:,} machine-written rows to "
            f"{d['real_rows']:,} real rows. Its effect on a model was measured on the student "
            f"only: {student} No wider social-impact assessment was made."
        ),
        "dataReleaseMaintenancePlan": card.maintenance_plan
        or "No maintenance plan was given; maintainers: "
        + join(card.maintainers, "none named")
        + ".",
    }
    if period is not None:
        rai["dataCollectionTimeframe"] = list(period)
    return rai


def _write_provenance(
    out_dir: Path, version: str, card: CardInfo, report: ReportInfo,
    tables: dict[str, pl.DataFrame], r: Release,
) -> list[Path]:  # fmt: skip
    files = {f"data/{n}.parquet": file_sha256(out_dir / "data" / f"{n}.parquet") for n in tables}
    factory_version = _factory_version()
    written = [write_prov(out_dir, release_prov(version, card, report, files, factory_version))]
    sources = [dict(s) for s in report.sources]
    for s in sources:
        s["license_class"] = license_terms(s["license"]).use_class
    meta = CroissantMeta(
        name=card.pretty_name,
        description=(card.description + " " if card.description else "")
        + _summary(card, report, r.tables),
        version=version,
        date_published=report.created_at[:10],
        license=card.license,
        license_class=r.derived["license"]["release_class"],
        language=list(card.language),
        keywords=sorted({"synthetic", *card.tags}),
        maintainers=list(card.maintainers),
        citation=card.citation
        or f"{card.pretty_name}, release {version}, written by the factory on "
        f"{report.created_at[:10]}.",
        run_id=report.run_id,
        created_at=report.created_at,
        factory_version=factory_version,
        sources=sources,
        models=[m for m in (report.embedder, report.teacher) if m is not None],  # type: ignore[misc]
        descriptions={
            t["name"]: f"{t['rows']:,} {'synthetic' if t['synthetic'] else 'real'} rows."
            for t in r.tables
        },
        meanings={t["name"]: {c["name"]: c["meaning"] for c in t["columns"]} for t in r.tables},
    )
    written.append(write_croissant(out_dir, tables, meta, _rai(r, _personal_data(card, report))))
    (out_dir / SVG_NAME).write_text(r.svg + "\n", encoding="utf-8")
    written.append(out_dir / SVG_NAME)
    return written


def write_release(
    out_dir: Path, tables: dict[str, pl.DataFrame], card: CardInfo, report: ReportInfo
) -> ReleaseInfo:
    """Write the Parquet tables, the card, the provenance files, the report and the manifest
    into `out_dir` (its name is the release's version)."""
    out_dir = Path(out_dir)
    check_info(card, report)
    lic = release_license(card, report)
    card = replace(card, license_class=lic["release_class"])
    report = replace(
        report,
        sources=[
            {**s, "license_class": license_terms(s["license"]).use_class}  # type: ignore[typeddict-item]
            for s in report.sources
        ],
    )
    ensure_no_secrets(_json_safe({"card": asdict(card), "report": asdict(report)}), "release")
    _check_out_dir(out_dir, tables)
    version = out_dir.name
    # a rewritten folder no longer matches its old signature; optional files may not return
    for name in (*_SIGNED_FILES, "map.png", OPENLINEAGE_NAME):
        (out_dir / name).unlink(missing_ok=True)
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
    run_ids = {x["openlineage_run_id"] for x in report.layers if x.get("openlineage_run_id")}
    events = _copy_events(report.openlineage_log, run_ids, out_dir)
    if events:
        files.append(out_dir / OPENLINEAGE_NAME)
    derived = _derived(version, tables, card, report)
    documents = ["README.md", "report.md", "report.html", "report.json"]
    names = sorted(
        [p.relative_to(out_dir).as_posix() for p in files]
        + [PROV_NAME, CROISSANT_NAME, SVG_NAME, *documents]
    )
    r = Release(
        version=version,
        card=card,
        report=report,
        tables=_tables_context(tables),
        derived=derived,
        files=names,
        events=events,
        svg=lineage_svg(report.layers, [s["name"] for s in report.sources]),
        map_b64=map_b64,
    )
    files += _write_provenance(out_dir, version, card, report, tables, r)
    context = _card_context(card, report, r)
    facts: dict[str, Any] = _json_safe(
        {"card": asdict(card), "report": asdict(report), "release": derived}
    )
    facts["report"]["map_png"] = "map.png" if report.map_png is not None else None
    facts["report"]["openlineage_log"] = OPENLINEAGE_NAME if events else None
    outputs = {
        "README.md": _front_matter(card, report, r.tables) + render("card.md", context),
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
