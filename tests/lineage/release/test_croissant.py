"""croissant.json: valid Croissant 1.1 (mlcroissant), RAI and PROV fields, records = the Parquet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from lineage.errors import LineageError
from lineage.release.croissant import CONFORMS_TO, RAI_FIELDS, data_type
from lineage.release.manifest import file_sha256
from tests.fixtures.release import RUN

MLCROISSANT = Path(sys.executable).with_name("mlcroissant")
# mlcroissant asks for schema.org `version`; a release's version is a content hash, not semver,
# so it is the dataset's `identifier` instead.
ALLOWED_WARNINGS = ('Property "https://schema.org/version" is recommended',)


def _doc(sample_release: Path) -> dict[str, Any]:
    return json.loads((sample_release / "croissant.json").read_text(encoding="utf-8"))


def test_mlcroissant_validates_it(sample_release: Path) -> None:
    import mlcroissant as mlc

    done = subprocess.run(
        [str(MLCROISSANT), "validate", "--jsonld", "croissant.json"],
        cwd=sample_release, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "error" not in (done.stdout + done.stderr).lower(), done.stderr
    dataset = mlc.Dataset(jsonld=str(sample_release / "croissant.json"))
    issues = dataset.metadata.ctx.issues
    assert not issues.errors, issues.errors
    unexpected = [w for w in issues.warnings if not any(a in w for a in ALLOWED_WARNINGS)]
    assert not unexpected, unexpected
    assert dataset.metadata.name == "Banking77 gap fill"


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_records_read_through_mlcroissant_are_the_parquet_rows(sample_release: Path) -> None:
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=str(sample_release / "croissant.json"))
    for table in ("synthetic", "train"):
        frame = pl.read_parquet(sample_release / "data" / f"{table}.parquet")
        records = list(dataset.records(table))
        assert len(records) == frame.height, table
        got = {
            column: [_plain(r[f"{table}/{column}"]) for r in records] for column in frame.columns
        }
        for column in frame.columns:
            expected = frame[column].to_list()
            if frame[column].dtype.is_float():
                assert got[column] == pytest.approx(expected), (table, column)
            else:
                assert got[column] == expected, (table, column)


def test_files_fields_rai_and_prov_come_from_the_release(sample_release: Path) -> None:
    doc = _doc(sample_release)
    assert doc["@type"] == "sc:Dataset"
    assert doc["conformsTo"] == CONFORMS_TO
    for key in ("name", "description", "license", "url", "creator", "datePublished"):
        assert doc[key], key
    assert doc["license"] == "https://spdx.org/licenses/CC-BY-4.0.html"
    assert doc["identifier"] == sample_release.name
    assert doc["datePublished"] == "2026-11-24"
    assert doc["creator"] == [
        {"@type": "sc:Person", "name": "data-team@example.org", "email": "data-team@example.org"}
    ]
    files = {f["contentUrl"]: f for f in doc["distribution"]}
    assert sorted(files) == ["data/synthetic.parquet", "data/train.parquet"]
    for path, entry in files.items():
        assert entry["sha256"] == file_sha256(sample_release / path)
        assert entry["encodingFormat"] == "application/x-parquet"
    for record_set in doc["recordSet"]:
        frame = pl.read_parquet(sample_release / "data" / f"{record_set['@id']}.parquet")
        assert [f["name"] for f in record_set["field"]] == frame.columns
        types = {f["name"]: f["dataType"] for f in record_set["field"]}
        assert types["text"] == "sc:Text"
        if "seed" in types:
            assert types["seed"] == "sc:Integer"
            assert types["achieved_cosine"] == "sc:Float"
            parents = next(f for f in record_set["field"] if f["name"] == "parent_doc_ids")
            assert (parents["isArray"], parents["arrayShape"]) == (True, "-1")

    for name in RAI_FIELDS:
        assert doc[f"rai:{name}"], name
    # the vocabulary's names, not mlcroissant 1.1.1's spellings
    assert "rai:dataCollectionTimeFrame" not in doc
    assert "rai:dataDataManipulationProtocol" not in doc
    assert doc["rai:dataCollectionTimeframe"] == [
        "2026-11-20T09:00:00+00:00",
        "2026-11-21T09:00:00+00:00",
    ]
    assert "SmolLM2-135M-Instruct" in " ".join(doc["rai:machineAnnotationTools"])
    assert "sentiment: observed 0.31, must be at most 0.2, failed" in doc["rai:dataBiases"]
    assert doc["rai:dataReleaseMaintenancePlan"].startswith("Rebuilt monthly")
    assert (
        "released real train rows: 0 of 400 rows matched" in doc["rai:personalSensitiveInformation"]
    )

    derived = doc["prov:wasDerivedFrom"]
    assert [d["name"] for d in derived] == ["banking77"]
    assert derived[0]["url"] == "https://huggingface.co/datasets/PolyAI/banking77"
    assert derived[0]["identifier"] == "d" * 64
    generated = doc["prov:wasGeneratedBy"]
    assert generated["@id"] == f"urn:factory:run:{RUN}"
    assert {m["identifier"] for m in generated["prov:used"]} == {"e" * 16, "f" * 16}
    assert doc["prov:wasAttributedTo"] == doc["creator"]

    manifest = (sample_release / "MANIFEST.sha256").read_text(encoding="utf-8")
    assert f"{file_sha256(sample_release / 'croissant.json')}  croissant.json" in manifest


@pytest.mark.parametrize(
    ("dtype", "expected"),
    [
        (pl.String, ("sc:Text", None)),
        (pl.Int32, ("sc:Integer", None)),
        (pl.Float32, ("sc:Float", None)),
        (pl.Boolean, ("sc:Boolean", None)),
        (pl.Datetime("us", "UTC"), ("sc:DateTime", None)),
        (pl.List(pl.String), ("sc:Text", "-1")),
        (pl.Array(pl.Float32, 384), ("sc:Float", "384")),
    ],
)
def test_data_types(dtype: pl.DataType, expected: tuple[str, str | None]) -> None:
    assert data_type(dtype) == expected


def test_an_unmappable_column_type_is_named() -> None:
    with pytest.raises(LineageError, match=r"column type Struct.*cast it"):
        data_type(pl.Struct({"a": pl.Int64}))
