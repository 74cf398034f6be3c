"""The report's sections, built from the release's facts (`Release`) by `write_release`.

`sections` returns the ten sections of docs/release.md (identity, integrity, lineage, sources,
synthetic generation, quality evidence, composition, privacy, uses and limitations, downstream
models) and a table mapping AI Act Art. 10(2)(a)-(h) to them. Each section is a list of blocks
(`p`, `list`, `table`, `code`, `svg`, `image`) that the templates render as HTML and Markdown;
`model_text`, `student_text`, `limitations` and `rationale` are the sentences the card and the
Croissant RAI fields share with the report.

Example:
    >>> [s["title"] for s in sections(release)][:2]  # doctest: +SKIP
    ['Release identity', 'Integrity']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lineage.croissant import CROISSANT_NAME
from lineage.licenses import USES, license_terms
from lineage.manifest import MANIFEST_NAME
from lineage.prov_export import PROV_NAME
from lineage.release_info import CardInfo, ReportInfo
from lineage.templates import format_value

__all__ = [
    "OPENLINEAGE_NAME",
    "SVG_NAME",
    "Release",
    "join",
    "limitations",
    "model_text",
    "must_be",
    "rationale",
    "sections",
    "student_text",
]

OPENLINEAGE_NAME = "openlineage.jsonl"
"""The release's copy of its layers' OpenLineage events (written by `lineage.release`)."""
SVG_NAME = "lineage.svg"
"""The lineage picture the report shows, also written as a file of the release."""
_VERIFY_STEPS = (
    ("sha256sum -c MANIFEST.sha256", "run inside the folder: checks every file against the "
     "manifest (GNU coreutils)."),
    ("model_signing verify key RELEASE_DIR --signature RELEASE_DIR/signature.sig "
     "--public_key signing-key.pub", "checks the signature with OpenSSF model_signing; use the "
     "publisher's public key obtained separately, or compare the fingerprint of the copy in the "
     "folder with the one the publisher announces."),
    ("factory verify RELEASE_DIR", "runs the factory's own verification of the folder in one go."),
)  # fmt: skip
_TASK_WORDS = {
    "text": "text",
    "classification": "text with a class label",
    "qa": "question and answer text",
}
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


def model_text(entry: dict[str, Any] | None, missing: str) -> str:
    if entry is None:
        return missing
    text = f"{entry['name']} (fingerprint {entry['fingerprint']}"
    if entry.get("license"):
        text += f", license {entry['license']}"
    if entry.get("endpoint"):
        text += f", served at {entry['endpoint']}"
    return text + ")"


def student_text(report: ReportInfo) -> str:
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
    return (
        f"The factory embedded every document with the embedder, clustered the map "
        f"({report.clusters:,} clusters, {100 * report.noise_share:.1f}% noise) and asked "
        f"the teacher for samples aimed at the {len(report.gaps):,} places where the map "
        "is thin, then kept only the samples that passed its filters."
    )


@dataclass(frozen=True)
class Release:
    """Everything the report's sections read."""

    version: str
    card: CardInfo
    report: ReportInfo
    tables: list[dict[str, Any]]
    derived: dict[str, Any]
    files: list[str]
    events: int
    svg: str
    map_b64: str | None


def _p(text: str) -> dict[str, Any]:
    return {"kind": "p", "text": text}


def _list(items: list[str]) -> dict[str, Any]:
    return {"kind": "list", "items": items}


def _table(
    table_id: str,
    head: list[str],
    rows: list[list[Any]],
    num: frozenset[int] | set[int] = frozenset(),
) -> dict[str, Any]:
    return {
        "kind": "table",
        "id": table_id,
        "head": head,
        "rows": [[format_value(c) for c in row] for row in rows],
        "num": [i in num for i in range(len(head))],
    }


def _code(text: str) -> dict[str, Any]:
    return {"kind": "code", "text": text}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def join(items: list[str], empty: str) -> str:
    return ", ".join(items) if items else empty


def _identity(r: Release) -> list[dict[str, Any]]:
    card, lic = r.card, r.derived["license"]
    use = lic["declared_use"]
    verdict = (
        "no use was declared (set release.declared_use)"
        if use is None
        else f"declared use {use}: " + ("allowed" if lic["use_allowed"] else "NOT allowed")
    )
    rows = [
        ["release id and version", f"{r.version} (the name of the release folder)"],
        ["name", card.pretty_name],
        ["date written", r.report.created_at],
        ["run", r.report.run_id],
        ["maintainers", join(card.maintainers, "none named (set release.maintainers)")],
        ["maintenance plan",
         card.maintenance_plan or "none given (set release.maintenance_plan)"],
        ["license", f"{card.license}; use class {lic['release_class']}; {verdict}"],
        ["Hub commit and tag",
         "recorded at publication in the project ledger (provenance/ledger.jsonl), not here: "
         f"the signed folder is never edited. `factory publish` uploads it, tags the commit "
         f"v-{r.version} and appends a publication record with the repository and commit."],
    ]  # fmt: skip
    return [_table("identity", ["item", "value"], rows)]


def _integrity(r: Release) -> list[dict[str, Any]]:
    signing = r.report.signing
    blocks = [
        _p(
            f"{MANIFEST_NAME} lists the SHA-256 of every file of the folder ({len(r.files)} "
            f"files when written: {', '.join(r.files)}"
            + ("; plus the public key copy signing-key.pub, added when signing" if signing else "")
            + "). A changed, added or removed file no longer matches it."
        )
    ]
    if signing is None:
        blocks.append(
            _p(
                "This release is not signed: it carries no signature.sig. The manifest shows "
                "whether files changed after it was written, but not who wrote them."
            )
        )
        steps = [_VERIFY_STEPS[0], _VERIFY_STEPS[2]]
    else:
        blocks.append(
            _table(
                "signature",
                ["item", "value"],
                [
                    ["method", signing["method"]],
                    ["signature file", signing["signature_file"]],
                    ["public key file", signing["public_key_file"]],
                    ["public key fingerprint (SHA-256)", signing["public_key_fingerprint"]],
                ],
            )
        )
        steps = list(_VERIFY_STEPS)
    blocks.append(_p("How a third party verifies the folder, step by step:"))
    blocks.append(_code("\n".join(cmd for cmd, _ in steps)))
    blocks.append(_list([f"{cmd}: {why}" for cmd, why in steps]))
    return blocks


def _layer_inputs(layer: dict[str, Any], known: set[tuple[str, str | None]]) -> str:
    if not layer["inputs"]:
        return "the corpus sources (section 4)"
    parts = []
    for name, version in sorted(layer["inputs"].items()):
        tag = "no version" if version is None else f"v {version[:12]}"
        parts.append(f"{name} ({tag}{'' if (name, version) in known else ', not in the ledger'})")
    return ", ".join(parts)


def _lineage(r: Release) -> list[dict[str, Any]]:
    layers = r.report.layers
    blocks: list[dict[str, Any]] = []
    if layers:
        blocks.append(
            _p(
                f"The release was built from {len(layers)} layers. Each box is a table at the "
                "data version it had; each arrow shows what it was made from (an input a longer "
                "path already implies has no arrow of its own; the table lists every input). A "
                "data version is a hash of the content, the code version and the parameters, "
                "never of a time."
            )
        )
        blocks.append({"kind": "svg", "svg": r.svg, "file": SVG_NAME})
        known = {(x["table"], x["data_version"]) for x in layers}
        rows = [
            [x["table"] + ("" if x["asset"] == x["table"] else f" (written by step {x['asset']})"),
             x["run_id"], x["code_version"], x["data_version"] or "no version",
             "not recorded" if x.get("rows") is None else x.get("rows"), _layer_inputs(x, known)]
            for x in layers
        ]  # fmt: skip
        head = ["layer", "run id", "code version", "data version", "rows", "made from"]
        blocks.append(_table("layers", head, rows, {4}))
    else:
        blocks.append(
            _p(
                "The project ledger held no record of the steps behind this release (it was "
                "written outside a recorded pipeline run), so no layer can be listed."
            )
        )
    exports = [
        f"{PROV_NAME}: W3C PROV-JSON of the sources, layers, runs, models and agents.",
        f"{CROISSANT_NAME}: Croissant 1.1 metadata with the Responsible-AI fields and PROV links.",
        (
            f"{OPENLINEAGE_NAME}: the {r.events} OpenLineage run events of the steps above, "
            "copied from the project's event log."
            if r.events
            else "No OpenLineage events were copied: the project's event log held none for the "
            "steps above."
        ),
        "The project ledger (provenance/ledger.jsonl next to the releases folder) holds the "
        "hash-chained records these layers come from.",
    ]
    blocks.append(_p("Machine-readable lineage exports:"))
    blocks.append(_list(exports))
    return blocks


def _sources(r: Release) -> list[dict[str, Any]]:
    report, lic = r.report, r.derived["license"]
    blocks: list[dict[str, Any]] = []
    if report.sources:
        rows = []
        for s, e in zip(report.sources, lic["entries"], strict=False):
            duties = [d for d, on in (("attribution", e["attribution"]),
                                      ("share-alike", e["share_alike"])) if on]  # fmt: skip
            rows.append(
                [s["name"], s["uri"], s.get("version") or "not recorded", s["rows"],
                 s["license"] + ("" if e["known"] else " (not a known license id)"),
                 e["class"], join(duties, "none"),
                 s.get("personal_data") or "not scanned",
                 s.get("purpose") or "corpus source of the real rows"]
            )  # fmt: skip
        head = ["source", "origin", "version (content hash)", "rows", "license", "use class",
                "duties", "personal data", "purpose"]  # fmt: skip
        blocks.append(_table("sources", head, rows, {3}))
    else:
        blocks.append(_p("No corpus source was recorded for this run."))
    blocks += _exclusions(report)
    blocks.append(_p("How the release's license class follows from its inputs:"))
    rows = [[e["what"], e["license"], e["class"]] for e in lic["entries"]]
    blocks.append(_table("license-classes", ["input", "license or terms", "use class"], rows))
    text = (
        f"Derived class: {lic['derived_class']}, the most restrictive of the above (order: "
        "academic-only > non-commercial > unspecified > commercial)."
    )
    if lic["override"]:
        text += (
            f" Override: {lic['override']}, because: {lic['override_reason']}. The release's "
            f"class is the override, {lic['release_class']}."
        )
    else:
        text += f" No override was set, so the release's class is {lic['release_class']}."
    blocks.append(_p(text))
    use = lic["declared_use"]
    allowed = join(lic["allowed_uses"], "none")
    if use is None:
        blocks.append(_p(f"No use was declared. The class allows: {allowed}."))
    elif lic["use_allowed"]:
        blocks.append(_p(f"Declared use: {use}. Allowed by class {lic['release_class']}."))
    else:
        blocks.append(
            _p(
                f"Declared use: {use}. NOT allowed by class {lic['release_class']} (it allows: "
                f"{allowed}); `factory publish` refuses to publish it for this use."
            )
        )
    duties = [d for d, on in (("attribution", lic["attribution"]),
                              ("share-alike", lic["share_alike"])) if on]  # fmt: skip
    blocks.append(
        _p(
            f"Hub license id on the card: {r.card.license}. Duties passed on to users: "
            f"{join(duties, 'none recorded')}."
        )
    )
    return blocks


def _exclusions(report: ReportInfo) -> list[dict[str, Any]]:
    """What `factory release --exclude` left out, and what that does not undo."""
    if not report.exclusions:
        return []
    rows = [
        [e["query"], e["kind"], e["documents"], e["synthetic_samples"],
         e.get("reason") or "no reason given"]
        for e in report.exclusions
    ]  # fmt: skip
    head = ["excluded", "kind", "documents", "synthetic rows removed", "reason"]
    note = (
        "Left out of this release (a takedown or a revoked license): the documents above are "
        "not among the released real rows, and every synthetic row derived from them (as a "
        "parent, or as a failure an adversarial row answers) was removed. The quality checks "
        "were judged again on the rows that remain. "
    )
    if report.student is not None:
        note += (
            "The student checkpoint this report names was trained before the exclusion, on "
            "rows that included them; retrain it to remove their influence."
        )
    return [_p(note), _table("exclusions", head, rows, {2, 3})]


def _synthesis(r: Release) -> list[dict[str, Any]]:
    report, d = r.report, r.derived
    if not d["synthetic_tables"]:
        blocks = [_p("This release holds no synthetic rows, so no model wrote any of its data.")]
        return blocks + _rejects_and_gaps(report)
    syn = d["synthesis"]
    teacher = report.teacher
    terms = license_terms(teacher.get("license")) if teacher else None
    seeds = syn["seeds"]
    rows = [
        ["teacher model", model_text(teacher, "not recorded")],
        ["teacher terms",
         "not recorded" if teacher is None
         else f"{teacher.get('license') or 'not recorded'} (use class {terms.use_class})"],  # type: ignore[union-attr]
        ["embedder (measures how close a sample is to its target)",
         model_text(report.embedder, "not recorded")],
        ["prompt template hashes", join(syn["prompt_template_hashes"] or [], "not recorded")],
        ["sampling parameters", join(syn["sampling_params"] or [], "not recorded")],
        ["seeds",
         "not recorded" if seeds is None
         else f"{seeds['count']:,} distinct, from {seeds['min']} to {seeds['max']}"],
        ["methods", join([f"{k} {v:,}" for k, v in sorted(report.methods.items())],
                          "not recorded")],
        ["synthetic rows released", f"{d['synthetic_rows']:,} of {d['total_rows']:,} rows"],
        ["synthetic share", _pct(d["synthetic_share"])],
        ["candidates kept / rejected",
         f"{report.samples_accepted:,} / {report.samples_rejected:,}"],
    ]  # fmt: skip
    blocks = [
        _p(
            rationale(report)
            + " Each candidate was embedded again and kept only if it passed every row filter."
        ),
        _table("synthesis", ["item", "value"], rows),
        _p(
            "Row filters, in the order applied (the first that fires names the reason): "
            + join(report.filters, "not recorded")
            + "."
        ),
    ]
    return blocks + _rejects_and_gaps(report)


def _rejects_and_gaps(report: ReportInfo) -> list[dict[str, Any]]:
    blocks = []
    reasons = sorted(report.reject_reasons.items(), key=lambda kv: (-kv[1], kv[0]))
    if reasons:
        blocks.append(_table("rejects", ["rejection reason", "samples"], reasons, {1}))
    elif report.samples_rejected:
        blocks.append(
            _p(f"The run rejected {report.samples_rejected:,} samples without recording reasons.")
        )
    else:
        blocks.append(_p("No candidate sample was rejected."))
    if report.gaps:
        rows = [
            [g["gap_id"][:12], g["kind"], g["score"], g["budget"],
             "not recorded" if g.get("accepted") is None else g["accepted"],
             g.get("rationale") or "none given"]
            for g in report.gaps
        ]  # fmt: skip
        head = ["gap", "kind", "score", "samples asked", "samples kept", "rationale"]
        blocks.append(_table("gaps", head, rows, {2, 3, 4}))
    else:
        blocks.append(_p("No coverage gaps were found, so no samples were aimed at gaps."))
    return blocks


def must_be(c: dict[str, Any]) -> str:
    word = {"max": "at most ", "min": "at least "}.get(c.get("bound") or "", "")
    return word + format_value(c["threshold"])


def _severity(c: dict[str, Any]) -> str:
    blocking = c.get("blocking")
    return "severity not recorded" if blocking is None else "blocking" if blocking else "warning"


def _quality(r: Release) -> list[dict[str, Any]]:
    d, checks = r.derived, r.report.checks
    if not checks:
        return [_p("No quality checks were run for this release.")]
    warnings_failed = d["checks_failed"] - d["blocking_failed"]
    blocks = [
        _p(
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
    blocks.append(_table("checks", head, rows, {3}))
    return blocks


def _composition(r: Release) -> list[dict[str, Any]]:
    report, d = r.report, r.derived
    student = report.student
    counts = [
        ["documents", report.documents],
        ["clusters", report.clusters],
        ["noise share", _pct(report.noise_share)],
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
        ["synthetic share", _pct(d["synthetic_share"])],
    ]
    blocks = [_table("counts", ["measure", "value"], counts, {1})]
    language = next((c for c in report.checks if c["name"] == "language"), None)
    text = f"Declared language(s): {', '.join(r.card.language)}."
    if language is not None:
        text += (
            f" Language check on the synthetic rows: observed {format_value(language['observed'])}"
            f", must be {must_be(language)} ({'passed' if language['passed'] else 'failed'})."
        )
    blocks.append(_p(text))
    covered = d["clusters_covered"]
    blocks.append(
        _p(
            f"The map has {report.clusters:,} clusters ({_pct(report.noise_share)} of documents "
            f"are noise). {d['gaps_covered']} of {d['gaps_total']} coverage gaps received at least "
            "one kept sample"
            + ("" if covered is None else f"; they lie in or next to {covered} clusters")
            + "."
        )
    )
    if report.splits:
        splits = ", ".join(f"{k} {v:,}" for k, v in sorted(report.splits.items()))
        blocks.append(_p(f"Corpus splits (documents): {splits}. Only train rows are released."))
    for name, labels in d["labels"].items():
        top = list(labels.items())[:15]
        rest = sum(labels.values()) - sum(n for _, n in top)
        rows = [[k, n] for k, n in top] + ([["all other labels", rest]] if rest else [])
        blocks.append(_p(f"Labels in table {name} ({len(labels)} distinct):"))
        blocks.append(_table(f"labels-{name}", ["label", "rows"], rows, {1}))
    if r.map_b64:
        blocks.append({"kind": "image", "b64": r.map_b64, "file": "map.png",
                       "alt": "semantic map of the corpus and the synthetic samples"})  # fmt: skip
    else:
        blocks.append(_p("No semantic map image was produced in this run."))
    for t in r.tables:
        kind = "synthetic" if t["synthetic"] else "real"
        blocks.append(_p(f"Schema of table {t['name']} ({t['rows']:,} {kind} rows, {t['path']}):"))
        rows = [[c["name"], c["dtype"], c["meaning"]] for c in t["columns"]]
        blocks.append(_table(f"schema-{t['name']}", ["column", "type", "meaning"], rows))
    return blocks


def _privacy(r: Release) -> list[dict[str, Any]]:
    report = r.report
    privacy = report.privacy
    check = next((c for c in report.checks if c["name"] == "privacy"), None)
    blocks: list[dict[str, Any]] = []
    if privacy is None:
        blocks.append(
            _p(
                "No personal-data scan was recorded for this release: rows may carry any "
                "personal data present in the sources."
            )
        )
    else:
        blocks.append(_p(f"Scan method: {privacy['method']}."))
        if privacy["scans"]:
            rows = [
                [s["what"], s["rows"], s["rows_with_pii"],
                 join([f"{k} {n:,}" for k, n in sorted(s["matches"].items()) if n], "none")]
                for s in privacy["scans"]
            ]  # fmt: skip
            head = ["rows scanned", "rows", "rows with a match", "matches by kind"]
            blocks.append(_table("privacy-scans", head, rows, {1, 2}))
        if privacy.get("filter_action") is not None:
            action = {
                "filter": "rejects every candidate synthetic row that holds a match",
                "redact": "replaces each match in a candidate synthetic row by a marker such as "
                "[EMAIL]",
            }.get(privacy["filter_action"], privacy["filter_action"])
            blocks.append(
                _p(
                    f"Personal-data row filter ({privacy['filter_action']}): it {action}; "
                    f"{privacy.get('filtered_rows', 0):,} candidate rows were rejected by it."
                )
            )
    if check is not None:
        blocks.append(
            _p(
                f"Privacy check ({_severity(check)}): observed {format_value(check['observed'])}"
                f" rows with personal data among the kept synthetic rows, must be "
                f"{must_be(check)}: {'passed' if check['passed'] else 'FAILED'}."
            )
        )
    not_scanned = (privacy or {}).get("not_scanned") or []
    blocks.append(_p("Not scanned:"))
    blocks.append(
        _list(
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
            _p("Data sent off this machine: " + (join(sent, "none") if sent else "none") + ".")
        )
    return blocks


def _uses(r: Release) -> list[dict[str, Any]]:
    card, report, d = r.card, r.report, r.derived
    lic = d["license"]
    blocks = [_p("Intended uses:")]
    blocks.append(_list(card.intended_uses or ["The publisher stated no intended uses."]))
    out = list(card.out_of_scope_uses)
    forbidden = [u for u in USES if u not in lic["allowed_uses"]]
    if forbidden:
        out.append(
            f"Use for {join(forbidden, '')} purposes: the license class "
            f"{lic['release_class']} does not allow it."
        )
    out.append("Evaluating a model on the synthetic rows as if they were real data.")
    blocks.append(_p("Out-of-scope uses:"))
    blocks.append(_list(out))
    blocks.append(_p("Known limitations:"))
    blocks.append(_list(limitations(card, report, r.tables)))
    embedder = report.embedder["name"] if report.embedder else "the embedder"
    blocks.append(_p("Assumptions behind the data:"))
    blocks.append(
        _list(
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
        _p(
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
        f"- Description: {d['synthetic_rows']:,} synthetic rows ({_pct(d['synthetic_share'])} of "
        f"the {d['total_rows']:,} released rows), written for {d['gaps_total']} coverage gaps of "
        f"the embedding map of a {report.documents:,}-document corpus "
        f"({join([s['name'] for s in report.sources], 'no recorded source')}), kept by "
        f"automatic row filters ({report.samples_rejected:,} candidates rejected) and checked by "
        f"{d['checks_total']} quality checks ({d['checks_passed']} passed).",
    ]
    if period is not None:
        lines.append(f"- Latest collection date of the real data: {period[1]}.")
    return "\n".join(lines)


def _downstream(r: Release) -> list[dict[str, Any]]:
    s = r.report.student
    blocks = [_p(student_text(r.report))]
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
        blocks.append(_table("student", ["item", "value"], rows))
    if r.derived["synthetic_tables"]:
        blocks.append(
            _p(
                "Ready to paste into the synthetic-data part of the public training-content "
                "summary a general-purpose model's provider publishes under AI Act Art. 53(1)(d), "
                "on the AI Office's template (check the template's own headings):"
            )
        )
        blocks.append(_code(_art53(r)))
    else:
        blocks.append(
            _p(
                "This release holds no synthetic rows, so the Art. 53(1)(d) summary needs no "
                "synthetic-data entry for it."
            )
        )
    return blocks


_SECTIONS = (
    ("identity", "Release identity", _identity),
    ("integrity", "Integrity", _integrity),
    ("lineage", "Lineage graph", _lineage),
    ("sources", "Source inventory", _sources),
    ("synthesis", "Synthetic generation", _synthesis),
    ("quality", "Quality, diversity and bias evidence", _quality),
    ("composition", "Composition and statistics", _composition),
    ("privacy", "Privacy", _privacy),
    ("uses", "Uses and limitations", _uses),
    ("downstream", "Downstream models", _downstream),
)


def sections(r: Release) -> list[dict[str, Any]]:
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
                _p(
                    "Art. 10(2) asks for documented data-governance practices on the points "
                    "below (paraphrased; see the Regulation's text):"
                ),
                _table("art-10-2", ["article", "practice", "answered in"], rows),
            ],
        }
    )
    return out
