"""The release folder: Parquet tables, the dataset card, the provenance report and its exports."""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from lineage import Ledger, LineageError, SecretInLineageError
from lineage.release import layers_from_ledger, write_release
from lineage.release.card import size_category
from tests.fixtures.release import (
    MODELS,
    PIPELINE,
    card,
    pipeline_ledger,
    report,
    synthetic,
    write_sample_release,
)

FORBIDDEN = re.compile(r"(?i:todo|lorem|placeholder|\btbd\b|\bnan\b)|\{\{|\{%|\bNone\b")
"""Placeholder text, unrendered template syntax and Python's None / NaN shown as values."""
SECTIONS = (
    "1. Release identity",
    "2. Integrity",
    "3. Lineage graph",
    "4. Source inventory",
    "5. Synthetic generation",
    "6. Quality, diversity and bias evidence",
    "7. Composition and statistics",
    "8. Privacy",
    "9. Uses and limitations",
    "10. Downstream models",
    "Where this report answers AI Act Art. 10(2)",
)


def _front_matter(readme: str) -> dict[str, object]:
    assert readme.startswith("---\n")
    return yaml.safe_load(readme.split("---\n", 2)[1])


def _visible(html: str) -> str:
    """The text a reader sees in report.html (tags, styles and the embedded images dropped)."""
    html = re.sub(r"<(style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


def _html_table(html: str, table_id: str) -> list[list[str]]:
    body = re.search(rf'<table id="{table_id}">(.*?)</table>', html, flags=re.S)
    assert body is not None, table_id
    rows = re.findall(r"<tr>(.*?)</tr>", body.group(1), flags=re.S)
    return [
        [html_lib.unescape(c.strip()) for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
        for r in rows[1:]
    ]


def _md_rows(md: str, first: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith(f"| {first} |")]


def test_release_folder_is_complete_and_real(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    tables = {"synthetic": synthetic(train_rows, 9), "train": train_rows}
    facts_in = report(tmp_path)
    out = tmp_path / "release"
    info = write_release(out, tables, card(), facts_in)

    names = sorted(p.relative_to(out).as_posix() for p in info.files)
    assert names == sorted(
        [
            "data/synthetic.parquet",
            "data/train.parquet",
            "MANIFEST.sha256",
            "README.md",
            "croissant.json",
            "lineage.svg",
            "map.png",
            "openlineage.jsonl",
            "provenance.prov.json",
            "report.html",
            "report.md",
            "report.json",
        ]
    )
    assert info.rows == {"synthetic": 9, "train": 400}
    assert pl.read_parquet(out / "data" / "synthetic.parquet").equals(tables["synthetic"])
    assert pl.read_parquet(out / "data" / "train.parquet").equals(train_rows)

    readme = (out / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(readme)
    assert meta["license"] == "cc-by-4.0"
    assert meta["language"] == ["en"]
    assert meta["task_categories"] == ["text-classification"]
    assert meta["size_categories"] == ["n<1K"]
    assert meta["annotations_creators"] == ["machine-generated"]
    assert meta["language_creators"] == ["found", "machine-generated"]
    assert meta["source_datasets"] == ["original", "extended|PolyAI/banking77"]
    assert meta["configs"] == [
        {
            "config_name": "synthetic",
            "data_files": [{"split": "train", "path": "data/synthetic.parquet"}],
            "default": True,
        },
        {"config_name": "train", "data_files": [{"split": "train", "path": "data/train.parquet"}]},
    ]
    for section in (
        "Dataset summary",
        "Source data",
        "How it was made",
        "Quality checks",
        "Bias, risks and limitations",
        "Licensing",
        "Provenance",
    ):
        assert f"## {section}" in readme or f"### {section}" in readme
    assert "f" * 16 in readme  # teacher fingerprint
    assert "| near_duplicates | diversity | 0.061 | 0.05 | FAILED |" in readme
    assert "Check near_duplicates (diversity) failed" in readme
    assert "received 6 of the 8 samples" in readme
    assert "use class: commercial" in readme

    html = (out / "report.html").read_text(encoding="utf-8")
    for text in (
        "1,234",
        "17",
        "12.5%",
        ">9<",
        ">7<",
        "off_target",
        "41.73 → 29.06",
        "0.8731",
        "CC-BY-4.0",
        "e" * 16,
        "f" * 16,
        "9" * 64,
        "FAILED",
        "<svg",
    ):
        assert text in html, text
    png = (out / "map.png").read_bytes()
    assert png == facts_in.map_png.read_bytes()  # type: ignore[union-attr]
    assert f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" in html
    assert "<script>" not in html  # autoescaped
    assert "&lt;script&gt;" in html
    assert (out / "lineage.svg").read_text(encoding="utf-8").strip() in html

    md = (out / "report.md").read_text(encoding="utf-8")
    for text in ("![semantic map", "(map.png)", "(lineage.svg)", "1,234", "41.73 → 29.06"):
        assert text in md, text
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["documents"] == 1_234
    assert facts["report"]["map_png"] == "map.png"
    assert facts["report"]["openlineage_log"] == "openlineage.jsonl"
    for path in out.rglob("*"):
        if path.suffix in {".md", ".html", ".json", ".svg", ".jsonl"}:
            text = path.read_text(encoding="utf-8")
            assert not FORBIDDEN.search(text), (path.name, FORBIDDEN.search(text))


def test_report_has_the_ten_sections_in_both_formats(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    out = write_sample_release(tmp_path, train_rows)
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    for title in SECTIONS:
        assert f"## {title}\n" in md, title
        assert f">{html_lib.escape(title, quote=False)}</h2>" in html, title
    assert md.index("## 1. Release identity") < md.index("## 10. Downstream models")
    visible = _visible(html)
    for text in (
        "3f2a9c1d0b7e (the name of the release folder)",
        "data-team@example.org",
        "Rebuilt monthly",
        "factory publish",
        "v-3f2a9c1d0b7e",
        "sha256sum -c MANIFEST.sha256",
        "factory verify RELEASE_DIR --allow-unsigned",
        "This release is not signed",
        "provenance.prov.json",
        "openlineage.jsonl: the 14 OpenLineage run events",
        "d" * 64,
        "real train rows: anchors and parents",
        "Declared use: commercial. Allowed by class commercial.",
        "Synthetic data",
        "Generating model(s): SmolLM2-135M-Instruct",
        "Latest collection date of the real data: 2026-11-21T09:00:00+00:00",
        "Data gaps (AI Act Art. 10(2)(h))",
        "validation and test rows (not released)",
        "Data sent off this machine: none.",
    ):
        assert text in visible, text
        assert text in md.replace("\\|", "|").replace("&lt;", "<").replace("&gt;", ">"), text
    art = _html_table(html, "art-10-2")
    assert [row[0] for row in art] == [f"10(2)({x})" for x in "abcdefgh"]
    layers = _html_table(html, "layers")
    assert [row[0] for row in layers] == [t for t, _, _ in PIPELINE] + ["dataset_release"]
    ledger = Ledger(tmp_path / "home" / "provenance" / "ledger.jsonl").records()
    for row, record in zip(layers, ledger, strict=False):
        body = record["body"]
        assert row[1] == body["dagster_run_id"]
        assert row[2] == body["code_version"]
        assert row[3] == body["outputs"][row[0]]["data_version"]
        assert row[4] == str(body["outputs"][row[0]]["rows"])
    assert layers[0][5] == "the corpus sources (section 4)"
    svg = (out / "lineage.svg").read_text(encoding="utf-8")
    for table, _, _ in PIPELINE:
        assert f">{table}</text>" in svg
    assert ">banking77</text>" in svg


def test_report_numbers_equal_the_release_tables(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    out = write_sample_release(tmp_path, train_rows)
    tables = {p.stem: pl.read_parquet(p) for p in sorted((out / "data").glob("*.parquet"))}
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    html = (out / "report.html").read_text(encoding="utf-8")
    md = (out / "report.md").read_text(encoding="utf-8")
    release = facts["release"]

    rows = {name: frame.height for name, frame in tables.items()}
    share = rows["synthetic"] / sum(rows.values())
    assert release["rows"] == rows
    assert release["synthetic_share"] == pytest.approx(share)
    counts = dict((r[0], r[1]) for r in _html_table(html, "counts"))
    for name, n in rows.items():
        assert counts[f"rows in table {name}"] == f"{n:,}"
        assert _md_rows(md, f"rows in table {name}") == [f"| rows in table {name} | {n:,} |"]
    assert counts["synthetic share"] == f"{100 * share:.1f}%"
    assert counts["samples accepted"] == f"{rows['synthetic']:,}"
    synthesis = dict((r[0], r[1]) for r in _html_table(html, "synthesis"))
    assert synthesis["synthetic share"] == f"{100 * share:.1f}%"
    seeds = tables["synthetic"]["seed"]
    assert synthesis["seeds"] == f"{seeds.n_unique()} distinct, from {seeds.min()} to {seeds.max()}"
    assert synthesis["prompt template hashes"] == tables["synthetic"]["prompt_template_hash"][0]

    checks = facts["report"]["checks"]
    passed = sum(c["passed"] for c in checks)
    assert (release["checks_passed"], release["checks_failed"]) == (passed, len(checks) - passed)
    assert release["blocking_failed"] == 1
    assert f"{passed} of {len(checks)} checks passed" in html
    shown = _html_table(html, "checks")
    assert [row[0] for row in shown] == [c["name"] for c in checks]
    for row, c in zip(shown, checks, strict=True):
        word = {"max": "at most", "min": "at least"}[c["bound"]]
        assert row[3] == f"{c['observed']:.4g}"
        assert row[4] == f"{word} {c['threshold']:.4g}"
        assert row[5] == ("blocking" if c["blocking"] else "warning")
        assert row[6] == ("passed" if c["passed"] else "FAILED")
        assert f"| {c['name']} | {c['family']} |" in md
    assert all("blocking" in c for c in checks)  # what `factory publish` reads

    kept = tables["synthetic"]["gap_id"].value_counts()
    per_gap = dict(zip(kept["gap_id"], kept["count"], strict=True))
    gaps = _html_table(html, "gaps")
    assert len(gaps) == len(facts["report"]["gaps"]) == release["gaps_total"]
    for row, g in zip(gaps, facts["report"]["gaps"], strict=True):
        assert row[0] == g["gap_id"][:12]
        assert row[4] == str(per_gap[g["gap_id"]]) == str(g["accepted"])
    rejects = dict((r[0], r[1]) for r in _html_table(html, "rejects"))
    assert rejects == {k: str(v) for k, v in facts["report"]["reject_reasons"].items()}
    for reason, n in facts["report"]["reject_reasons"].items():
        assert f"| {reason} | {n} |" in md
    labels = tables["synthetic"]["label"].value_counts()
    shown_labels = dict((r[0], r[1]) for r in _html_table(html, "labels-synthetic"))
    assert shown_labels == {
        k: str(v) for k, v in zip(labels["label"], labels["count"], strict=True)
    }
    schema = [r[0] for r in _html_table(html, "schema-synthetic")]
    assert schema == tables["synthetic"].columns
    for path in (out / "report.md", out / "report.html", out / "report.json"):
        assert not FORBIDDEN.search(path.read_text(encoding="utf-8")), path.name


def test_license_class_is_the_most_restrictive_and_an_override_is_stated(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    tables = {"synthetic": synthetic(train_rows, 9), "train": train_rows}
    teacher = {"name": "gpt-x", "fingerprint": "f" * 16, "license": "openai-terms"}
    out = tmp_path / "derived"
    write_release(out, tables, card(), report(tmp_path, teacher=teacher))
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["card"]["license_class"] == "non-commercial"
    assert facts["card"]["declared_use"] == "commercial"
    assert facts["release"]["license"]["use_allowed"] is False
    visible = _visible((out / "report.html").read_text(encoding="utf-8"))
    assert "Declared use: commercial. NOT allowed by class non-commercial" in visible
    classes = _html_table((out / "report.html").read_text(encoding="utf-8"), "license-classes")
    assert classes == [
        ["source banking77", "CC-BY-4.0", "commercial"],
        ["teacher gpt-x (output terms)", "openai-terms", "non-commercial"],
    ]

    reason = "OpenAI's terms were reviewed by counsel for this use on 2026-11-01"
    overridden = card(license_override="commercial", license_override_reason=reason)
    out = tmp_path / "overridden"
    write_release(out, tables, overridden, report(tmp_path, teacher=teacher))
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["card"]["license_class"] == "commercial"
    assert facts["card"]["license_override_reason"] == reason
    assert facts["release"]["license"]["derived_class"] == "non-commercial"
    assert facts["release"]["license"]["override"] == "commercial"
    for name in ("report.md", "report.html", "README.md"):
        text = html_lib.unescape((out / name).read_text(encoding="utf-8"))
        assert "non-commercial" in text, name
        assert reason in text, name

    with pytest.raises(
        LineageError, match=r"license_class is 'commercial' but .* 'non-commercial'"
    ):
        write_release(
            tmp_path / "contradicts", tables, card(license_class="commercial"),
            report(tmp_path, teacher=teacher),
        )  # fmt: skip
    with pytest.raises(LineageError, match="license_override_reason is empty"):
        write_release(tmp_path / "x", tables, card(license_override="commercial"),
                      report(tmp_path))  # fmt: skip
    with pytest.raises(LineageError, match=r"declared_use is 'resale'"):
        write_release(tmp_path / "y", tables, card(declared_use="resale"), report(tmp_path))


def test_signing_is_described_for_a_third_party(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    signing = {
        "public_key_fingerprint": "5" * 64,
        "signature_file": "signature.sig",
        "public_key_file": "signing-key.pub",
        "method": "OpenSSF model_signing 1.1.1, EC P-256 key",
    }
    out = write_sample_release(tmp_path, train_rows, signing=signing)
    html = (out / "report.html").read_text(encoding="utf-8")
    visible = _visible(html)
    assert "5" * 64 in visible
    assert "OpenSSF model_signing 1.1.1, EC P-256 key" in visible
    assert "This release is not signed" not in visible
    commands = re.search(r"<pre><code>(.*?)</code></pre>", html, flags=re.S)
    assert commands is not None
    assert html_lib.unescape(commands.group(1)).splitlines() == [
        "sha256sum -c MANIFEST.sha256",
        "model_signing verify key RELEASE_DIR --signature RELEASE_DIR/signature.sig "
        "--public_key signing-key.pub",
        "factory verify RELEASE_DIR --public-key KEY.pub",
    ]
    assert "exits non-zero" in visible  # without a trusted key: integrity only
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert f"Signing key fingerprint\n(SHA-256): `{'5' * 64}`" in readme
    assert "factory verify RELEASE_DIR --public-key KEY.pub" in readme
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["signing"] == signing
    with pytest.raises(LineageError, match=r"report\.signing needs exactly"):
        write_release(tmp_path / "bad", {"train": train_rows}, card(),
                      report(tmp_path, signing={"method": "x"}))  # fmt: skip


def test_layers_are_read_back_from_the_ledger(tmp_path: Path) -> None:
    layers, _ = pipeline_ledger(tmp_path)
    assert [x["table"] for x in layers] == [t for t, _, _ in PIPELINE] + ["dataset_release"]
    by_table = {x["table"]: x for x in layers}
    assert by_table["corpus_documents"]["inputs"] == {}
    assert by_table["synthetic_samples"]["models"] == MODELS["synthetic_samples"]
    assert by_table["coverage_gaps"]["inputs"] == {
        "semantic_map": by_table["semantic_map"]["data_version"],
        "document_embeddings": by_table["document_embeddings"]["data_version"],
    }
    records = Ledger(tmp_path / "provenance" / "ledger.jsonl").records()
    assert layers_from_ledger(records, {"coverage_gaps": "not-a-version"}) == []
    one = layers_from_ledger(records, {"corpus_documents": None})
    assert [(x["table"], x["rows"], x["code_version"]) for x in one] == [
        ("corpus_documents", 400, "corpus_documents-v2")
    ]


def test_only_the_layers_openlineage_events_are_copied(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    out = write_sample_release(tmp_path, train_rows)
    events = [
        json.loads(line)
        for line in (out / "openlineage.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    jobs = {e["job"]["name"] for e in events}
    assert jobs == {step for _, step, _ in PIPELINE}
    assert {e["eventType"] for e in events} == {"START", "COMPLETE"}
    assert len(events) == 2 * len(PIPELINE)


def test_hub_parsers_read_the_release(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    import datasets
    from huggingface_hub import DatasetCard

    out = tmp_path / "release"
    tables = {"synthetic": synthetic(train_rows, 9), "train": train_rows}
    write_release(out, tables, card(), report(tmp_path))
    hub_card = DatasetCard.load(out / "README.md")
    assert hub_card.data.license == "cc-by-4.0"
    assert hub_card.data.size_categories == ["n<1K"]
    cache = str(tmp_path / "hf_cache")
    default = datasets.load_dataset(str(out), split="train", cache_dir=cache)
    assert default.num_rows == 9
    assert "gap_id" in default.column_names
    train = datasets.load_dataset(str(out), "train", split="train", cache_dir=cache)
    assert train.num_rows == 400
    assert sorted(train["doc_id"]) == sorted(train_rows["doc_id"].to_list())
    files = {"train": str(out / "data" / "synthetic.parquet")}
    plain = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=cache)
    assert plain["parent_doc_ids"][0] == tables["synthetic"]["parent_doc_ids"][0].to_list()


def test_missing_values_are_said_plainly(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    bare = report(
        tmp_path,
        student=None,
        map_png=None,
        checks=[],
        gaps=[],
        reject_reasons={},
        samples_rejected=0,
        layers=[],
        privacy=None,
        filters=[],
        collection_period=None,
        openlineage_log=None,
        teacher=None,
    )
    out = tmp_path / "release"
    info = write_release(out, {"train": train_rows}, card(maintainers=[], maintenance_plan=None,
                                                          declared_use=None), bare)  # fmt: skip
    assert not (out / "map.png").exists()
    assert not (out / "openlineage.jsonl").exists()
    assert _front_matter((out / "README.md").read_text(encoding="utf-8"))["language_creators"] == [
        "found"
    ]
    for name in ("README.md", "report.md", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "No student was trained in this run." in text, name
        assert "No quality checks were run for this release." in text, name
        assert "No coverage gaps were found" in text, name
        assert "No candidate sample was rejected." in text, name
        assert not FORBIDDEN.search(text), (name, FORBIDDEN.search(text))
    visible = _visible((out / "report.html").read_text(encoding="utf-8"))
    for text in (
        "No semantic map image was produced in this run.",
        "none named (set release.maintainers)",
        "none given (set release.maintenance_plan)",
        "no use was declared",
        "The project ledger held no record of the steps behind this release",
        "No OpenLineage events were copied",
        "This release holds no synthetic rows",
        "No personal-data scan was recorded for this release",
        "This release is not signed",
    ):
        assert text in visible, text
    assert "data:image/png" not in (out / "report.html").read_text(encoding="utf-8")
    assert info.rows == {"train": 400}


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (250_000, "100K<n<1M"), (10**13, "n>1T")],
)
def test_size_category(rows: int, bucket: str) -> None:
    assert size_category(rows) == bucket


def test_secrets_never_reach_a_release(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    leaky = card(description="Upload with hf_" + "Qw3" * 12)
    out = tmp_path / "release"
    with pytest.raises(SecretInLineageError):
        write_release(out, {"train": train_rows}, leaky, report(tmp_path))
    assert not out.exists()


def test_inconsistent_counts_are_refused(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    bad = report(tmp_path, samples_rejected=8, noise_share=1.5)
    with pytest.raises(
        LineageError,
        match=r"noise_share must lie in \[0, 1\], got 1.5.*sum to 7 but samples_rejected is 8",
    ):
        write_release(tmp_path / "release", {"train": train_rows}, card(), bad)


def test_stale_tables_are_refused_and_a_stale_signature_dropped(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    from lineage.release.manifest import verify_manifest

    out = tmp_path / "release"
    write_release(out, {"old": train_rows}, card(), report(tmp_path))
    with pytest.raises(LineageError, match=r"already holds other tables \['old.parquet'\]"):
        write_release(out, {"train": train_rows}, card(), report(tmp_path))
    (out / "signature.sig").write_text("{}", encoding="utf-8")
    (out / "signing-key.pub").write_text("old key", encoding="utf-8")
    write_release(out, {"old": train_rows}, card(), report(tmp_path))
    assert not (out / "signature.sig").exists()
    assert not (out / "signing-key.pub").exists()
    assert verify_manifest(out) == []


def test_one_changed_byte_in_any_release_file_is_detected(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    import subprocess

    from lineage.release.manifest import verify_manifest

    out = tmp_path / "release"
    info = write_release(out, {"synthetic": synthetic(train_rows, 9), "train": train_rows},
                         card(), report(tmp_path))  # fmt: skip
    assert verify_manifest(out) == []
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kinds = [p for p in info.files if p.name != "MANIFEST.sha256"]
    assert {p.suffix for p in kinds} == {".parquet", ".md", ".html", ".json", ".png", ".svg",
                                         ".jsonl"}  # fmt: skip
    for path in kinds:
        original = path.read_bytes()
        middle = len(original) // 2
        path.write_bytes(original[:middle] + bytes([original[middle] ^ 1]) + original[middle + 1 :])
        name = path.relative_to(out).as_posix()
        assert verify_manifest(out) == [
            f"{name}: content changed (SHA-256 differs from the manifest)"
        ], name
        path.write_bytes(original)
    assert verify_manifest(out) == []


def test_an_exclusion_is_stated_with_what_it_removed(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    entry = {"query": "banking77", "kind": "source", "documents": 400, "synthetic_samples": 9,
             "reason": "license revoked by the publisher"}  # fmt: skip
    out = write_sample_release(tmp_path, train_rows, exclusions=[entry])
    md = (out / "report.md").read_text(encoding="utf-8")
    assert "| banking77 | source | 400 | 9 | license revoked by the publisher |" in md
    assert "retrain it to remove their influence" in md
    assert _html_table((out / "report.html").read_text(encoding="utf-8"), "exclusions") == [
        ["banking77", "source", "400", "9", "license revoked by the publisher"],
    ]
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["exclusions"] == [entry]
    plain = write_sample_release(tmp_path / "plain", train_rows)
    assert "exclusions" not in (plain / "report.html").read_text(encoding="utf-8")
