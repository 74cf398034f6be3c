"""The release folder: Parquet tables, the dataset card, the reports and the embedded map."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import polars as pl
import pytest
import yaml

from factory.hashing import content_hash
from lineage import (
    CardInfo,
    LineageError,
    ReportInfo,
    SecretInLineageError,
    size_category,
    write_release,
)

FORBIDDEN = re.compile(r"todo|lorem|placeholder|tbd|\{\{|\{%", re.IGNORECASE)


@pytest.fixture
def train_rows(banking77_slice: Path) -> pl.DataFrame:
    """The 400 real banking77 train rows shaped like corpus documents."""
    raw = pl.read_csv(banking77_slice)
    return (
        raw.rename({"category": "label"})
        .with_columns(
            pl.col("text").map_elements(content_hash, return_dtype=pl.String).alias("doc_id"),
            pl.lit("train").alias("split"),
            pl.lit("banking77").alias("source_id"),
            pl.lit("CC-BY-4.0").alias("license"),
        )
        .select("doc_id", "text", "label", "split", "source_id", "license")
        .sort("doc_id")
    )


def _synthetic(train: pl.DataFrame, n: int) -> pl.DataFrame:
    parents = train["doc_id"].to_list()
    texts = [
        f"Can I {verb} my card while abroad, case {i}?"
        for i, verb in zip(range(n), ["top up", "freeze", "activate"] * n, strict=False)
    ]
    return pl.DataFrame(
        {
            "sample_id": [content_hash(t) for t in texts],
            "text": texts,
            "label": [train["label"][i % train.height] for i in range(n)],
            "gap_id": [f"gap{i % 3:061d}" for i in range(n)],
            "method": ["interpolate", "perturb"] * (n // 2) + ["interpolate"] * (n % 2),
            "parent_doc_ids": [[parents[i], parents[i + 1]] for i in range(n)],
            "achieved_cosine": [0.5 + i / (4 * n) for i in range(n)],
            "seed": list(range(n)),
        }
    )


def _map_png(path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    xy = np.random.default_rng(0).normal(size=(200, 2))
    fig, ax = plt.subplots(figsize=(3, 3), dpi=60)
    ax.scatter(xy[:, 0], xy[:, 1], s=4)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _card() -> CardInfo:
    return CardInfo(
        pretty_name="Banking77 gap fill",
        license="cc-by-4.0",
        language=["en"],
        task_categories=["text-classification"],
        license_class="commercial",
        intended_uses=["training intent classifiers for banking support"],
        maintainers=["data-team@example.org"],
    )


def _report(tmp_path: Path, **changes: object) -> ReportInfo:
    values: dict[str, object] = {
        "run_id": "0d1c2b3a-0000-4000-8000-000000000001",
        "created_at": "2026-11-24T10:00:00+00:00",
        "task_kind": "classification",
        "documents": 1_234,
        "clusters": 17,
        "noise_share": 0.125,
        "sources": [
            {
                "name": "banking77",
                "uri": "file:///data/banking77/train.csv",
                "license": "CC-BY-4.0",
                "rows": 400,
                "hf_id": "PolyAI/banking77",
                "license_class": "commercial",
            }
        ],
        "gaps": [
            {
                "gap_id": "a" * 64,
                "kind": "sparse_region",
                "score": 0.91,
                "budget": 8,
                "accepted": 5,
                "rationale": "few documents near <script>alert(1)</script> card top-ups",
            },
            {"gap_id": "b" * 64, "kind": "bridge", "score": 0.42, "budget": 4, "accepted": 4},
        ],
        "samples_accepted": 9,
        "samples_rejected": 7,
        "reject_reasons": {"too_far_from_target": 4, "label_mismatch": 3},
        "methods": {"interpolate": 6, "perturb": 3},
        "teacher": {
            "name": "SmolLM2-135M-Instruct",
            "fingerprint": "f" * 16,
            "license": "apache-2.0",
        },
        "embedder": {"name": "all-MiniLM-L6-v2", "fingerprint": "e" * 16},
        "student": {
            "base_model": "SmolLM2-135M",
            "lora_steps": 37,
            "metric": "perplexity",
            "before": 41.73,
            "after": 29.06,
            "eval_rows": 80,
        },
        "checks": [
            {
                "name": "label_agreement",
                "family": "quality",
                "passed": True,
                "observed": 0.8731,
                "threshold": 0.8,
            },
            {
                "name": "near_duplicates",
                "family": "diversity",
                "passed": False,
                "observed": 0.061,
                "threshold": 0.05,
            },
        ],
        "map_png": _map_png(tmp_path / "semantic_map.png"),
        "splits": {"train": 1_000, "validation": 134, "test": 100},
    }
    values.update(changes)
    return ReportInfo(**values)  # type: ignore[arg-type]


def _front_matter(readme: str) -> dict[str, object]:
    assert readme.startswith("---\n")
    return yaml.safe_load(readme.split("---\n", 2)[1])


def test_release_folder_is_complete_and_real(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    synthetic = _synthetic(train_rows, 9)
    report = _report(tmp_path)
    out = tmp_path / "release"
    info = write_release(out, {"synthetic": synthetic, "train": train_rows}, _card(), report)

    names = sorted(p.relative_to(out).as_posix() for p in info.files)
    assert names == sorted(
        [
            "data/synthetic.parquet",
            "data/train.parquet",
            "MANIFEST.sha256",
            "README.md",
            "map.png",
            "report.html",
            "report.md",
            "report.json",
        ]
    )
    assert info.rows == {"synthetic": 9, "train": 400}
    assert pl.read_parquet(out / "data" / "synthetic.parquet").equals(synthetic)
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
    ):
        assert f"## {section}" in readme or f"### {section}" in readme
    assert "f" * 16 in readme  # teacher fingerprint
    assert "| near_duplicates | diversity | 0.061 | 0.05 | FAILED |" in readme
    assert "Check near_duplicates (diversity) failed" in readme
    assert "received 5 of the 8 samples" in readme

    html = (out / "report.html").read_text(encoding="utf-8")
    for text in (
        "1,234",
        "17",
        "12.5%",
        ">9<",
        ">7<",
        "too_far_from_target",
        "label_mismatch",
        "37",
        "41.73 → 29.06",
        "0.8731",
        "CC-BY-4.0",
        "e" * 16,
        "f" * 16,
        "FAILED",
    ):
        assert text in html, text
    png = (out / "map.png").read_bytes()
    assert png == report.map_png.read_bytes()  # type: ignore[union-attr]
    assert f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}" in html
    assert "<script>" not in html  # autoescaped
    assert "&lt;script&gt;" in html

    md = (out / "report.md").read_text(encoding="utf-8")
    for text in ("![semantic map](map.png)", "1,234", "41.73 → 29.06"):
        assert text in md, text
    facts = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert facts["report"]["documents"] == 1_234
    assert facts["report"]["map_png"] == "map.png"
    for path in (out / "README.md", out / "report.md", out / "report.html", out / "report.json"):
        text = path.read_text(encoding="utf-8")
        assert not FORBIDDEN.search(text), (path.name, FORBIDDEN.search(text))
        assert "None" not in text, path.name


def test_hub_parsers_read_the_release(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    import datasets
    from huggingface_hub import DatasetCard

    out = tmp_path / "release"
    tables = {"synthetic": _synthetic(train_rows, 9), "train": train_rows}
    write_release(out, tables, _card(), _report(tmp_path))
    card = DatasetCard.load(out / "README.md")
    assert card.data.license == "cc-by-4.0"
    assert card.data.size_categories == ["n<1K"]
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
    report = _report(
        tmp_path,
        student=None,
        map_png=None,
        checks=[],
        gaps=[],
        reject_reasons={},
        samples_rejected=0,
    )
    out = tmp_path / "release"
    info = write_release(out, {"train": train_rows}, _card(), report)
    assert not (out / "map.png").exists()
    assert _front_matter((out / "README.md").read_text(encoding="utf-8"))["language_creators"] == [
        "found"
    ]
    for name in ("README.md", "report.md", "report.html"):
        text = (out / name).read_text(encoding="utf-8")
        assert "No student was trained in this run." in text, name
        assert "No quality checks were run for this release." in text, name
        assert "No coverage gaps were found" in text, name
        assert "No candidate sample was rejected." in text, name
        assert not FORBIDDEN.search(text), name
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No semantic map image was produced in this run." in html
    assert "data:image/png" not in html
    assert info.rows == {"train": 400}


@pytest.mark.parametrize(
    ("rows", "bucket"),
    [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (250_000, "100K<n<1M"), (10**13, "n>1T")],
)
def test_size_category(rows: int, bucket: str) -> None:
    assert size_category(rows) == bucket


def test_secrets_never_reach_a_release(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    card = _card()
    card.description = "Upload with hf_" + "Qw3" * 12
    out = tmp_path / "release"
    with pytest.raises(SecretInLineageError):
        write_release(out, {"train": train_rows}, card, _report(tmp_path))
    assert not out.exists()


def test_inconsistent_counts_are_refused(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    report = _report(tmp_path, samples_rejected=8, noise_share=1.5)
    with pytest.raises(
        LineageError,
        match=r"noise_share must lie in \[0, 1\], got 1.5.*sum to 7 but samples_rejected is 8",
    ):
        write_release(tmp_path / "release", {"train": train_rows}, _card(), report)


def test_stale_tables_are_refused(tmp_path: Path, train_rows: pl.DataFrame) -> None:
    out = tmp_path / "release"
    write_release(out, {"old": train_rows}, _card(), _report(tmp_path))
    with pytest.raises(LineageError, match=r"already holds other tables \['old.parquet'\]"):
        write_release(out, {"train": train_rows}, _card(), _report(tmp_path))


def test_one_changed_byte_in_any_release_file_is_detected(
    tmp_path: Path, train_rows: pl.DataFrame
) -> None:
    import subprocess

    from lineage.manifest import verify_manifest

    out = tmp_path / "release"
    info = write_release(out, {"synthetic": _synthetic(train_rows, 9), "train": train_rows},
                         _card(), _report(tmp_path))  # fmt: skip
    assert verify_manifest(out) == []
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", "MANIFEST.sha256"], cwd=out, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    kinds = [p for p in info.files if p.name != "MANIFEST.sha256"]
    assert {p.suffix for p in kinds} == {".parquet", ".md", ".html", ".json", ".png"}
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
