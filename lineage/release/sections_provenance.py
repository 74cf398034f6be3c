"""The report's sections on where the release came from: 1 release identity, 2 integrity,
3 lineage graph, 4 source inventory (with exclusions and the license derivation) and 5 synthetic
generation (with the rejection reasons and the coverage gaps).

Each builder takes the `Release` and returns its section's blocks (`lineage.release.report`);
`lineage.release.sections` puts them in order.
"""

from __future__ import annotations

from typing import Any

from lineage.release.croissant import CROISSANT_NAME
from lineage.release.info import ReportInfo
from lineage.release.licenses import license_terms
from lineage.release.manifest import MANIFEST_NAME
from lineage.release.prov import PROV_NAME
from lineage.release.report import (
    OPENLINEAGE_NAME,
    SVG_NAME,
    Release,
    bullets,
    code,
    join,
    model_text,
    para,
    pct,
    rationale,
    table,
)

__all__ = ["identity", "integrity", "lineage_graph", "source_inventory", "synthetic_generation"]

_VERIFY_STEPS = (
    ("sha256sum -c MANIFEST.sha256", "run inside the folder: checks every file against the "
     "manifest (GNU coreutils)."),
    ("model_signing verify key RELEASE_DIR --signature RELEASE_DIR/signature.sig "
     "--public_key signing-key.pub", "checks the signature with OpenSSF model_signing; use the "
     "publisher's public key obtained separately, or compare the fingerprint of the copy in the "
     "folder with the one the publisher announces."),
    ("factory verify RELEASE_DIR --public-key KEY.pub", "runs the factory's own verification "
     "in one go: manifest, signature against the publisher's key (KEY.pub obtained separately, "
     "or its fingerprint listed in ~/.config/factory/trusted-keys) and, inside the project, the "
     "ledger. Without a trusted key it checks integrity only and exits non-zero."),
)  # fmt: skip
_UNSIGNED_VERIFY = (
    "factory verify RELEASE_DIR --allow-unsigned", "runs the factory's own verification in one "
    "go (manifest and, inside the project, the ledger); an unsigned release shows integrity only."
)  # fmt: skip


def identity(r: Release) -> list[dict[str, Any]]:
    """Section 1: id, name, date, run, maintainers, license and where the Hub commit is kept."""
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
    return [table("identity", ["item", "value"], rows)]


def integrity(r: Release) -> list[dict[str, Any]]:
    """Section 2: the manifest, the signature and how a third party verifies the folder."""
    signing = r.report.signing
    blocks = [
        para(
            f"{MANIFEST_NAME} lists the SHA-256 of every file of the folder ({len(r.files)} "
            f"files when written: {', '.join(r.files)}"
            + ("; plus the public key copy signing-key.pub, added when signing" if signing else "")
            + "). A changed, added or removed file no longer matches it."
        )
    ]
    if signing is None:
        blocks.append(
            para(
                "This release is not signed: it carries no signature.sig. The manifest shows "
                "whether files changed after it was written, but not who wrote them."
            )
        )
        steps = [_VERIFY_STEPS[0], _UNSIGNED_VERIFY]
    else:
        blocks.append(
            table(
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
        blocks.append(
            para(
                "A signature proves only that the holder of the matching private key wrote the "
                "folder; signing-key.pub is a copy anyone who re-signs the folder can replace. "
                "Compare the fingerprint above with the one the publisher announces elsewhere "
                "before trusting the release."
            )
        )
        steps = list(_VERIFY_STEPS)
    if r.ledger_head is not None:
        blocks.append(
            para(
                f"ledger-head.json records where the project ledger stood when the release was "
                f"written (seq {r.ledger_head['seq']}, hash {r.ledger_head['hash']}); the "
                "release's own record follows it. Inside the project, factory verify checks that "
                "the ledger still holds both: a deleted ledger or a cut tail is tampering."
            )
        )
    blocks.append(para("How a third party verifies the folder, step by step:"))
    blocks.append(code("\n".join(cmd for cmd, _ in steps)))
    blocks.append(bullets([f"{cmd}: {why}" for cmd, why in steps]))
    return blocks


def _layer_inputs(layer: dict[str, Any], known: set[tuple[str, str | None]]) -> str:
    if not layer["inputs"]:
        return "the corpus sources (section 4)"
    parts = []
    for name, version in sorted(layer["inputs"].items()):
        tag = "no version" if version is None else f"v {version[:12]}"
        parts.append(f"{name} ({tag}{'' if (name, version) in known else ', not in the ledger'})")
    return ", ".join(parts)


def lineage_graph(r: Release) -> list[dict[str, Any]]:
    """Section 3: the lineage picture, the layers behind the release and the lineage exports."""
    layers = r.report.layers
    blocks: list[dict[str, Any]] = []
    if layers:
        blocks.append(
            para(
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
        blocks.append(table("layers", head, rows, {4}))
    else:
        blocks.append(
            para(
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
    blocks.append(para("Machine-readable lineage exports:"))
    blocks.append(bullets(exports))
    return blocks


def source_inventory(r: Release) -> list[dict[str, Any]]:
    """Section 4: the sources, the exclusions and how the license class follows from them."""
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
        blocks.append(table("sources", head, rows, {3}))
    else:
        blocks.append(para("No corpus source was recorded for this run."))
    blocks += _exclusions(report)
    blocks.append(para("How the release's license class follows from its inputs:"))
    rows = [[e["what"], e["license"], e["class"]] for e in lic["entries"]]
    blocks.append(table("license-classes", ["input", "license or terms", "use class"], rows))
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
    blocks.append(para(text))
    use = lic["declared_use"]
    allowed = join(lic["allowed_uses"], "none")
    if use is None:
        blocks.append(para(f"No use was declared. The class allows: {allowed}."))
    elif lic["use_allowed"]:
        blocks.append(para(f"Declared use: {use}. Allowed by class {lic['release_class']}."))
    else:
        blocks.append(
            para(
                f"Declared use: {use}. NOT allowed by class {lic['release_class']} (it allows: "
                f"{allowed}); `factory publish` refuses to publish it for this use."
            )
        )
    duties = [d for d, on in (("attribution", lic["attribution"]),
                              ("share-alike", lic["share_alike"])) if on]  # fmt: skip
    blocks.append(
        para(
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
    return [para(note), table("exclusions", head, rows, {2, 3})]


def synthetic_generation(r: Release) -> list[dict[str, Any]]:
    """Section 5: the teacher, its settings, the row filters, the rejections and the gaps."""
    report, d = r.report, r.derived
    if not d["synthetic_tables"]:
        blocks = [para("This release holds no synthetic rows, so no model wrote any of its data.")]
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
        ["synthetic share", pct(d["synthetic_share"])],
        ["candidates kept / rejected",
         f"{report.samples_accepted:,} / {report.samples_rejected:,}"],
    ]  # fmt: skip
    blocks = [
        para(
            rationale(report)
            + " Each candidate was embedded again and kept only if it passed every row filter."
        ),
        table("synthesis", ["item", "value"], rows),
        para(
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
        blocks.append(table("rejects", ["rejection reason", "samples"], reasons, {1}))
    elif report.samples_rejected:
        blocks.append(
            para(f"The run rejected {report.samples_rejected:,} samples without recording reasons.")
        )
    else:
        blocks.append(para("No candidate sample was rejected."))
    if report.gaps:
        rows = [
            [g["gap_id"][:12], g["kind"], g["score"], g["budget"],
             "not recorded" if g.get("accepted") is None else g["accepted"],
             g.get("rationale") or "none given"]
            for g in report.gaps
        ]  # fmt: skip
        head = ["gap", "kind", "score", "samples asked", "samples kept", "rationale"]
        blocks.append(table("gaps", head, rows, {2, 3, 4}))
    else:
        blocks.append(para("No coverage gaps were found, so no samples were aimed at gaps."))
    return blocks
