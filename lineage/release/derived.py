"""The facts `report.json` keeps as `release`: figures computed from the released tables and the
run (rows, synthetic share, check and gap counts, what the synthetic rows record about how they
were made, labels) and the license derivation.

`release_license` gives the release's use class: the most restrictive of the sources' and the
teacher's (`lineage.release.licenses`), unless the card gives an override with a reason; both are
stated. A table is synthetic when it has a `gap_id` column.

Example:
    >>> derived_facts(version, tables, card, report)["license"]["release_class"]  # doctest: +SKIP
    'commercial'
"""

from __future__ import annotations

from typing import Any

import polars as pl

from lineage.errors import LineageError
from lineage.release.info import CardInfo, ReportInfo
from lineage.release.licenses import USES, license_terms, most_restrictive, use_allowed

__all__ = ["derived_facts", "release_license"]


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


def derived_facts(
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
