"""Write a release folder: Parquet tables, the dataset card, the provenance files and the report.

Layout written by `write_release`::

    out_dir/
        data/<table>.parquet   one per table; each is a card config with a `train` split
        README.md              dataset card: YAML front matter + sections from real values
        report.html            the provenance report, one self-contained file (images inline)
        report.md              the same report in Markdown
        report.json            the card, the run's facts and the derived release facts as JSON
        croissant.json         Croissant 1.1 + RAI + PROV metadata (`lineage.release.croissant`)
        provenance.prov.json   W3C PROV-JSON of the layers, runs, models and agents
        openlineage.jsonl      the OpenLineage events of the layers' runs (when recorded)
        lineage.svg            the lineage picture the report shows
        map.png                the semantic map, when the run produced one
        ledger-head.json       the project ledger's head when written, for a recorded release
        MANIFEST.sha256        SHA-256 of every file above (`sha256sum -c MANIFEST.sha256`)

The card's context and front matter come from `lineage.release.card`, the derived release facts
and the license class from `lineage.release.derived`, the report's ten sections (docs/release.md)
and its AI Act Art. 10(2) table from `lineage.release.sections`; the templates are files in
`lineage/release/templates/`. A table is counted as synthetic when it has a `gap_id` column. The
folder loads with `datasets.load_dataset(str(out_dir), "<table>")`.

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

from lineage.errors import LineageError
from lineage.ledger import read_jsonl
from lineage.release.anchor import LEDGER_HEAD_NAME, LedgerHead, ledger_head_text
from lineage.release.card import card_context, front_matter, tables_context
from lineage.release.croissant import CROISSANT_NAME, release_meta, release_rai, write_croissant
from lineage.release.derived import derived_facts, release_license
from lineage.release.info import CardInfo, ReleaseInfo, ReportInfo, check_info
from lineage.release.licenses import license_terms
from lineage.release.manifest import file_sha256, write_manifest
from lineage.release.prov import PROV_NAME, release_prov, write_prov
from lineage.release.render import lineage_svg
from lineage.release.report import OPENLINEAGE_NAME, SVG_NAME, Release
from lineage.release.sections import sections
from lineage.release.templates import render
from lineage.secrets import ensure_no_secrets

__all__ = ["write_release"]

_TABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_SIGNED_FILES = ("signature.sig", "signing-key.pub")
"""Added by signing after `write_release`; dropped when a folder is written again."""


def _copy_events(log: Path | None, run_ids: set[str], out_dir: Path) -> int:
    """Copy the OpenLineage events of `run_ids` from `log` into the release; how many."""
    if log is None or not run_ids:
        return 0
    events = read_jsonl(Path(log), "event log", "the log is damaged")
    kept = [line for line, event in events if (event.get("run") or {}).get("runId") in run_ids]
    if kept:
        (out_dir / OPENLINEAGE_NAME).write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(kept)


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


def _write_provenance(out_dir: Path, tables: dict[str, pl.DataFrame], r: Release) -> list[Path]:
    """Write provenance.prov.json, croissant.json and lineage.svg; their paths."""
    files = {f"data/{n}.parquet": file_sha256(out_dir / "data" / f"{n}.parquet") for n in tables}
    factory_version = _factory_version()
    prov = release_prov(r.version, r.card, r.report, files, factory_version)
    written = [write_prov(out_dir, prov)]
    meta = release_meta(r, factory_version)
    written.append(write_croissant(out_dir, tables, meta, release_rai(r)))
    (out_dir / SVG_NAME).write_text(r.svg + "\n", encoding="utf-8")
    written.append(out_dir / SVG_NAME)
    return written


def write_release(
    out_dir: Path,
    tables: dict[str, pl.DataFrame],
    card: CardInfo,
    report: ReportInfo,
    *,
    ledger_head: LedgerHead | None = None,
) -> ReleaseInfo:
    """Write the Parquet tables, the card, the provenance files, the report and the manifest
    into `out_dir` (its name is the release's version); with `ledger_head` (the project
    ledger's last record before the release is recorded), `ledger-head.json` too."""
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
    for name in (*_SIGNED_FILES, "map.png", OPENLINEAGE_NAME, LEDGER_HEAD_NAME):
        (out_dir / name).unlink(missing_ok=True)
    (out_dir / "data").mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if ledger_head is not None:
        (out_dir / LEDGER_HEAD_NAME).write_text(ledger_head_text(ledger_head), encoding="utf-8")
        files.append(out_dir / LEDGER_HEAD_NAME)
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
    derived = derived_facts(version, tables, card, report)
    documents = ["README.md", "report.md", "report.html", "report.json"]
    names = sorted(
        [p.relative_to(out_dir).as_posix() for p in files]
        + [PROV_NAME, CROISSANT_NAME, SVG_NAME, *documents]
    )
    r = Release(
        version=version,
        card=card,
        report=report,
        tables=tables_context(tables),
        derived=derived,
        files=names,
        events=events,
        svg=lineage_svg(report.layers, [s["name"] for s in report.sources]),
        map_b64=map_b64,
        ledger_head=ledger_head,
    )
    files += _write_provenance(out_dir, tables, r)
    context = card_context(r) | {"sections": sections(r)}
    facts: dict[str, Any] = _json_safe(
        {"card": asdict(card), "report": asdict(report), "release": derived}
    )
    facts["report"]["map_png"] = "map.png" if report.map_png is not None else None
    facts["report"]["openlineage_log"] = OPENLINEAGE_NAME if events else None
    outputs = {
        "README.md": front_matter(card, report, r.tables) + render("card.md.j2", context),
        "report.md": render("report.md.j2", context),
        "report.html": render("report.html.j2", context),
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
