"""The report's sections on what the release holds and how it may be used: 6 quality, diversity
and bias evidence, 7 composition and statistics, 8 privacy, 9 uses and limitations (with the data
gaps of AI Act Art. 10(2)(h)) and 10 downstream models (with the Art. 53(1)(d) summary block).

Each builder takes the `Release` and returns its section's blocks (`lineage.release.report`);
`lineage.release.sections` puts them in order.
"""

from __future__ import annotations

from typing import Any

from lineage.release.licenses import USES
from lineage.release.report import (
    Release,
    bullets,
    code,
    join,
    limitations,
    must_be,
    para,
    pct,
    student_text,
    table,
)
from lineage.release.templates import format_value

__all__ = [
    "composition",
    "downstream_models",
    "privacy",
    "quality_evidence",
    "uses_and_limitations",
]

_TASK_WORDS = {
    "text": "text",
    "classification": "text with a class label",
    "qa": "question and answer text",
}


def _severity(c: dict[str, Any]) -> str:
    blocking = c.get("blocking")
    return "severity not recorded" if blocking is None else "blocking" if blocking else "warning"


def quality_evidence(r: Release) -> list[dict[str, Any]]:
    """Section 6: every check of the quality gate with its bound, severity and result."""
    d, checks = r.derived, r.report.checks
    if not checks:
        return [para("No quality checks were run for this release.")]
    warnings_failed = d["checks_failed"] - d["blocking_failed"]
    blocks = [
        para(
            f"{d['checks_passed']} of {d['checks_total']} checks passed; "
            f"{d['blocking_failed']} blocking {'check' if d['blocking_failed'] == 1 else 'checks'}"
            f" failed and {warnings_failed} warning "
            f"{'check' if warnings_failed == 1 else 'checks'} failed. A blocking check stops the "
            "release from being published when it fails; a warning is reported only."
            + (
                " `factory publish` refuses this release until the data is fixed."
                if d["blocking_failed"]
                else ""
            )
        )
    ]
    rows = []
    for c in checks:
        severity = _severity(c)
        result = "passed" if c["passed"] else "FAILED"
        if c.get("applicable") is False:
            result = "not applicable"
        rows.append(
            [c["name"], c["family"], c.get("description") or "see docs/checks.md",
             c["observed"], must_be(c), severity, result]
        )  # fmt: skip
    head = ["check", "family", "what it measures", "observed", "must be", "severity", "result"]
    blocks.append(table("checks", head, rows, {3}))
    return blocks


def composition(r: Release) -> list[dict[str, Any]]:
    """Section 7: counts, languages, clusters, splits, labels, the map and the schemas."""
    report, d = r.report, r.derived
    student = report.student
    counts = [
        ["documents", report.documents],
        ["clusters", report.clusters],
        ["noise share", pct(report.noise_share)],
        ["coverage gaps", len(report.gaps)],
        ["gaps with at least one kept sample", d["gaps_covered"]],
        ["samples accepted", report.samples_accepted],
        ["samples rejected", report.samples_rejected],
        ["training steps", student["lora_steps"] if student else "no student trained"],
        [f"{student['metric']} before → after" if student else "student metric",
         f"{student['before']:.4g} → {student['after']:.4g}" if student else "not measured"],
    ]  # fmt: skip
    if report.quarantined is not None:
        counts.append(["rows quarantined at ingestion", report.quarantined])
    counts += [[f"rows in table {t['name']}", t["rows"]] for t in r.tables]
    counts += [
        ["rows in all tables", d["total_rows"]],
        ["synthetic share", pct(d["synthetic_share"])],
    ]
    blocks = [table("counts", ["measure", "value"], counts, {1})]
    language = next((c for c in report.checks if c["name"] == "language"), None)
    text = f"Declared language(s): {', '.join(r.card.language)}."
    if language is not None:
        text += (
            f" Language check on the synthetic rows: observed {format_value(language['observed'])}"
            f", must be {must_be(language)} ({'passed' if language['passed'] else 'failed'})."
        )
    blocks.append(para(text))
    covered = d["clusters_covered"]
    blocks.append(
        para(
            f"The map has {report.clusters:,} clusters ({pct(report.noise_share)} of documents "
            f"are noise). {d['gaps_covered']} of {d['gaps_total']} coverage gaps received at least "
            "one kept sample"
            + ("" if covered is None else f"; they lie in or next to {covered} clusters")
            + "."
        )
    )
    if report.splits:
        splits = ", ".join(f"{k} {v:,}" for k, v in sorted(report.splits.items()))
        blocks.append(para(f"Corpus splits (documents): {splits}. Only train rows are released."))
    for name, labels in d["labels"].items():
        top = list(labels.items())[:15]
        rest = sum(labels.values()) - sum(n for _, n in top)
        rows = [[k, n] for k, n in top] + ([["all other labels", rest]] if rest else [])
        blocks.append(para(f"Labels in table {name} ({len(labels)} distinct):"))
        blocks.append(table(f"labels-{name}", ["label", "rows"], rows, {1}))
    if r.map_b64:
        blocks.append({"kind": "image", "b64": r.map_b64, "file": "map.png",
                       "alt": "semantic map of the corpus and the synthetic samples"})  # fmt: skip
    else:
        blocks.append(para("No semantic map image was produced in this run."))
    for t in r.tables:
        kind = "synthetic" if t["synthetic"] else "real"
        blocks.append(
            para(f"Schema of table {t['name']} ({t['rows']:,} {kind} rows, {t['path']}):")
        )
        rows = [[c["name"], c["dtype"], c["meaning"]] for c in t["columns"]]
        blocks.append(table(f"schema-{t['name']}", ["column", "type", "meaning"], rows))
    return blocks


def privacy(r: Release) -> list[dict[str, Any]]:
    """Section 8: the personal-data scan, the row filter, what was not scanned and sent."""
    report = r.report
    privacy = report.privacy
    check = next((c for c in report.checks if c["name"] == "privacy"), None)
    blocks: list[dict[str, Any]] = []
    if privacy is None:
        blocks.append(
            para(
                "No personal-data scan was recorded for this release: rows may carry any "
                "personal data present in the sources."
            )
        )
    else:
        blocks.append(para(f"Scan method: {privacy['method']}."))
        if privacy["scans"]:
            rows = [
                [s["what"], s["rows"], s["rows_with_pii"],
                 join([f"{k} {n:,}" for k, n in sorted(s["matches"].items()) if n], "none")]
                for s in privacy["scans"]
            ]  # fmt: skip
            head = ["rows scanned", "rows", "rows with a match", "matches by kind"]
            blocks.append(table("privacy-scans", head, rows, {1, 2}))
        if privacy.get("filter_action") is not None:
            action = {
                "filter": "rejects every candidate synthetic row that holds a match",
                "redact": "replaces each match in a candidate synthetic row by a marker such as "
                "[EMAIL]",
            }.get(privacy["filter_action"], privacy["filter_action"])
            blocks.append(
                para(
                    f"Personal-data row filter ({privacy['filter_action']}): it {action}; "
                    f"{privacy.get('filtered_rows', 0):,} candidate rows were rejected by it."
                )
            )
    if check is not None:
        blocks.append(
            para(
                f"Privacy check ({_severity(check)}): observed {format_value(check['observed'])}"
                f" rows with personal data among the kept synthetic rows, must be "
                f"{must_be(check)}: {'passed' if check['passed'] else 'FAILED'}."
            )
        )
    not_scanned = (privacy or {}).get("not_scanned") or []
    blocks.append(para("Not scanned:"))
    blocks.append(
        bullets(
            not_scanned
            or [
                "No statement of what was left unscanned was recorded; treat every row as "
                "unscanned beyond the results above."
            ]
        )
    )
    sent = (privacy or {}).get("sent_off_machine")
    if sent is not None:
        blocks.append(
            para("Data sent off this machine: " + (join(sent, "none") if sent else "none") + ".")
        )
    return blocks


def uses_and_limitations(r: Release) -> list[dict[str, Any]]:
    """Section 9: uses, out-of-scope uses, limitations, assumptions and data gaps."""
    card, report, d = r.card, r.report, r.derived
    lic = d["license"]
    blocks = [para("Intended uses:")]
    blocks.append(bullets(card.intended_uses or ["The publisher stated no intended uses."]))
    out = list(card.out_of_scope_uses)
    forbidden = [u for u in USES if u not in lic["allowed_uses"]]
    if forbidden:
        out.append(
            f"Use for {join(forbidden, '')} purposes: the license class "
            f"{lic['release_class']} does not allow it."
        )
    out.append("Evaluating a model on the synthetic rows as if they were real data.")
    blocks.append(para("Out-of-scope uses:"))
    blocks.append(bullets(out))
    blocks.append(para("Known limitations:"))
    blocks.append(bullets(limitations(card, report, r.tables)))
    embedder = report.embedder["name"] if report.embedder else "the embedder"
    blocks.append(para("Assumptions behind the data:"))
    blocks.append(
        bullets(
            [
                f"The embedding space of {embedder} places texts of similar meaning close "
                "together, so thin regions of the map are topics the corpus covers poorly.",
                "A synthetic row close to its target in that space (achieved cosine) covers the "
                "gap it was made for.",
                "The automatic checks of section 6 stand in for a review of every row; this "
                "report records no human review of the synthetic rows.",
            ]
        )
    )
    short = sum(
        1 for g in report.gaps if g.get("accepted") is not None and g["accepted"] < g["budget"]
    )
    blocks.append(
        para(
            f"Data gaps (AI Act Art. 10(2)(h)): the factory looked for gaps in the corpus's "
            f"embedding map and found {d['gaps_total']}; it addressed them by asking the teacher "
            f"for {d['samples_asked']:,} samples aimed at them and kept {report.samples_accepted:,}"
            f". {d['gaps_covered']} gaps received at least one kept sample and {short} received "
            "fewer than asked; those remain partly open. Gaps the embedding space cannot show "
            "(missing languages, facts or populations that no document mentions) are not measured."
        )
    )
    return blocks


def _art53(r: Release) -> str:
    report, d = r.report, r.derived
    teacher = report.teacher
    model = (
        "not recorded"
        if teacher is None
        else f"{teacher['name']} (weights fingerprint {teacher['fingerprint']}; output terms "
        f"{teacher.get('license') or 'not recorded'})"
    )
    labelled = _TASK_WORDS.get(report.task_kind, report.task_kind)
    period = report.collection_period
    lines = [
        "Synthetic data",
        f"- Generated by or for the provider: generated for the provider by the factory "
        f"pipeline (release {r.version}, run {report.run_id}).",
        f"- Modality: text ({labelled}).",
        f"- Generating model(s): {model}.",
        f"- Description: {d['synthetic_rows']:,} synthetic rows ({pct(d['synthetic_share'])} of "
        f"the {d['total_rows']:,} released rows), written for {d['gaps_total']} coverage gaps of "
        f"the embedding map of a {report.documents:,}-document corpus "
        f"({join([s['name'] for s in report.sources], 'no recorded source')}), kept by "
        f"automatic row filters ({report.samples_rejected:,} candidates rejected) and checked by "
        f"{d['checks_total']} quality checks ({d['checks_passed']} passed).",
    ]
    if period is not None:
        lines.append(f"- Latest collection date of the real data: {period[1]}.")
    return "\n".join(lines)


def downstream_models(r: Release) -> list[dict[str, Any]]:
    """Section 10: the student trained on the release and the Art. 53(1)(d) block."""
    s = r.report.student
    blocks = [para(student_text(r.report))]
    if s is not None:
        rows = [
            ["base model", s["base_model"]],
            ["training", f"{s.get('method', 'LoRA')}, {s['lora_steps']:,} steps"],
            ["metric", f"{s['metric']}: {s['before']:.4g} → {s['after']:.4g}"],
        ]
        for key, label in (
            ("checkpoint_hash", "checkpoint hash"),
            ("base_model_fingerprint", "base model fingerprint"),
            ("training_data_version", "training data version"),
            ("train_rows", "real rows trained on"),
            ("synthetic_rows", "synthetic rows trained on"),
        ):
            if s.get(key) is not None:
                rows.append([label, s[key]])  # type: ignore[literal-required]
        blocks.append(table("student", ["item", "value"], rows))
    if r.derived["synthetic_tables"]:
        blocks.append(
            para(
                "Ready to paste into the synthetic-data part of the public training-content "
                "summary a general-purpose model's provider publishes under AI Act Art. 53(1)(d), "
                "on the AI Office's template (check the template's own headings):"
            )
        )
        blocks.append(code(_art53(r)))
    else:
        blocks.append(
            para(
                "This release holds no synthetic rows, so the Art. 53(1)(d) summary needs no "
                "synthetic-data entry for it."
            )
        )
    return blocks
