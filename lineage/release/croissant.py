"""`croissant.json`: the release described in Croissant 1.1 with the RAI extension and PROV-O.

One `cr:FileObject` per Parquet table (with its `sha256`), one `cr:RecordSet` per table whose
fields are the table's columns (`dataType` from the Parquet type; list and fixed-size array
columns are `isArray`), `rai:*` fields from the release's own facts, and provenance through
`prov:wasDerivedFrom` (the sources), `prov:wasGeneratedBy` (the factory run) and
`prov:wasAttributedTo` (the maintainers). The RAI names are the vocabulary's
(`rai:dataCollectionTimeframe`, `rai:dataManipulationProtocol`), not mlcroissant 1.1.1's own
spellings. The release's content-hash version is the dataset's `identifier` (it is not semver).
`release_meta` and `release_rai` fill `CroissantMeta` and the RAI fields from the release's facts
(`Release`), in the words the card and the report use. Check a written file with
`mlcroissant validate --jsonld croissant.json`.

Example:
    >>> doc = croissant_jsonld(out, tables, meta, rai)  # doctest: +SKIP
    >>> doc["conformsTo"], [r["@id"] for r in doc["recordSet"]]  # doctest: +SKIP
    ('http://mlcommons.org/croissant/1.1', ['synthetic', 'train'])
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from lineage.errors import LineageError
from lineage.release.card import personal_data, summary
from lineage.release.licenses import license_terms
from lineage.release.manifest import file_sha256
from lineage.release.report import Release, join, limitations, model_text, must_be, student_text
from lineage.release.templates import format_value

__all__ = [
    "CONFORMS_TO",
    "CROISSANT_NAME",
    "RAI_FIELDS",
    "CroissantMeta",
    "croissant_context",
    "croissant_jsonld",
    "data_type",
    "release_meta",
    "release_rai",
    "write_croissant",
]

CROISSANT_NAME = "croissant.json"
CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
RAI_FIELDS = (
    "dataCollection",
    "dataCollectionType",
    "dataCollectionTimeframe",
    "dataPreprocessingProtocol",
    "dataManipulationProtocol",
    "machineAnnotationTools",
    "dataBiases",
    "dataLimitations",
    "dataUseCases",
    "personalSensitiveInformation",
    "dataSocialImpact",
    "dataReleaseMaintenancePlan",
)
"""The RAI fields of a release, in the vocabulary's spelling; all are required except the
timeframe, which is left out when the run recorded no ingestion times."""
_OPTIONAL_RAI = frozenset({"dataCollectionTimeframe"})

_CR_TERMS = (
    "arrayShape", "citeAs", "column", "containedIn", "equivalentProperty", "extract", "field",
    "fileObject", "fileProperty", "fileSet", "format", "includes", "isArray", "isLiveDataset",
    "jsonPath", "key", "md5", "parentField", "path", "recordSet", "references", "regex",
    "repeated", "replace", "samplingRate", "separator", "source", "subField", "transform",
)  # fmt: skip
_SPDX = {
    "apache-2.0": "Apache-2.0",
    "bsd-2-clause": "BSD-2-Clause",
    "bsd-3-clause": "BSD-3-Clause",
    "cc-by-4.0": "CC-BY-4.0",
    "cc-by-sa-4.0": "CC-BY-SA-4.0",
    "cc-by-nc-4.0": "CC-BY-NC-4.0",
    "cc-by-nc-sa-4.0": "CC-BY-NC-SA-4.0",
    "cc0-1.0": "CC0-1.0",
    "mit": "MIT",
    "odc-by": "ODC-By-1.0",
    "odbl": "ODbL-1.0",
}


@dataclass(frozen=True)
class CroissantMeta:
    """Dataset-level facts of the release for Croissant (all from the card and the run)."""

    name: str
    description: str
    version: str
    date_published: str
    license: str
    license_class: str
    language: list[str]
    keywords: list[str]
    maintainers: list[str]
    citation: str
    run_id: str
    created_at: str
    factory_version: str
    sources: list[dict[str, Any]]
    models: list[dict[str, str]]
    descriptions: dict[str, str] = field(default_factory=dict)
    """Table name -> what its rows are, in words."""
    meanings: dict[str, dict[str, str]] = field(default_factory=dict)
    """Table name -> column -> meaning."""


def croissant_context() -> dict[str, Any]:
    """The JSON-LD `@context` of Croissant 1.1, plus the `prov` prefix."""
    context: dict[str, Any] = {
        "@language": "en",
        "@vocab": "https://schema.org/",
        "sc": "https://schema.org/",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "dct": "http://purl.org/dc/terms/",
        "prov": "http://www.w3.org/ns/prov#",
        "conformsTo": "dct:conformsTo",
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "examples": {"@id": "cr:examples", "@type": "@json"},
    }
    context.update({term: f"cr:{term}" for term in _CR_TERMS})
    return context


def data_type(dtype: pl.DataType) -> tuple[str, str | None]:
    """Croissant `dataType` of a Polars type, and the `arrayShape` when it is a list/array."""
    if isinstance(dtype, pl.Array):
        inner, _ = data_type(dtype.inner)
        return inner, str(dtype.size)
    if isinstance(dtype, pl.List):
        inner, _ = data_type(dtype.inner)
        return inner, "-1"
    if dtype == pl.Boolean:
        return "sc:Boolean", None
    if dtype.is_integer():
        return "sc:Integer", None
    if dtype.is_float():
        return "sc:Float", None
    if isinstance(dtype, pl.Datetime):
        return "sc:DateTime", None
    if dtype == pl.Date:
        return "sc:Date", None
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        return "sc:Text", None
    msg = f"column type {dtype} has no Croissant dataType; cast it to a string or number first"
    raise LineageError(msg)


def _license_value(license_id: str, license_class: str) -> str:
    spdx = _SPDX.get(license_id.lower())
    if spdx is not None:
        return f"https://spdx.org/licenses/{spdx}.html"
    return f"{license_id} (use class {license_class}; see the report's source inventory)"


def _file_object(out_dir: Path, table: str) -> dict[str, Any]:
    path = out_dir / "data" / f"{table}.parquet"
    if not path.is_file():
        msg = f"{path} is missing; write the Parquet tables before croissant.json"
        raise LineageError(msg)
    return {
        "@type": "cr:FileObject",
        "@id": f"{table}-parquet",
        "name": f"{table}-parquet",
        "description": f"The {table} table as Parquet.",
        "contentUrl": f"data/{table}.parquet",
        "contentSize": f"{path.stat().st_size} B",
        "encodingFormat": "application/x-parquet",
        "sha256": file_sha256(path),
    }


def _record_set(table: str, frame: pl.DataFrame, meta: CroissantMeta) -> dict[str, Any]:
    meanings = meta.meanings.get(table, {})
    fields = []
    for column, dtype in frame.schema.items():
        kind, shape = data_type(dtype)
        entry: dict[str, Any] = {
            "@type": "cr:Field",
            "@id": f"{table}/{column}",
            "name": column,
            "description": meanings.get(column, "not documented"),
            "dataType": kind,
            "source": {"fileObject": {"@id": f"{table}-parquet"}, "extract": {"column": column}},
        }
        if shape is not None:
            entry |= {"isArray": True, "arrayShape": shape}
        fields.append(entry)
    record: dict[str, Any] = {
        "@type": "cr:RecordSet",
        "@id": table,
        "name": table,
        "description": meta.descriptions.get(table, f"The rows of {table}."),
        "field": fields,
    }
    key = next((k for k in ("sample_id", "doc_id") if k in frame.columns), None)
    if key is not None:
        record["key"] = {"@id": f"{table}/{key}"}
    return record


def _person(name: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"@type": "sc:Person", "name": name}
    if "@" in name and " " not in name:
        entry["email"] = name
    return entry


def _source_entity(source: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "@type": "prov:Entity",
        "name": source["name"],
        "license": source["license"],
    }
    uri = str(source.get("uri", ""))
    if source.get("hf_id"):
        entity["url"] = f"https://huggingface.co/datasets/{source['hf_id']}"
    elif "://" in uri:
        entity["url"] = uri
    if uri:
        entity["description"] = f"origin: {uri}"
    if source.get("version"):
        entity["identifier"] = source["version"]
    return entity


def croissant_jsonld(
    out_dir: Path, tables: dict[str, pl.DataFrame], meta: CroissantMeta, rai: dict[str, Any]
) -> dict[str, Any]:
    """The Croissant JSON-LD of the release in `out_dir` (its Parquet files must exist)."""
    missing = [name for name in RAI_FIELDS if not rai.get(name) and name not in _OPTIONAL_RAI]
    if missing:
        msg = f"croissant.json needs every RAI field filled; empty: {missing}"
        raise LineageError(msg)
    creators = [_person(m) for m in meta.maintainers] or [
        {"@type": "sc:Organization", "name": "the publisher (release.maintainers names nobody)"}
    ]
    doc: dict[str, Any] = {
        "@context": croissant_context(),
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        "name": meta.name,
        "description": meta.description,
        "identifier": meta.version,
        "url": f"urn:factory:release:{meta.version}",
        "license": _license_value(meta.license, meta.license_class),
        "creator": creators,
        "datePublished": meta.date_published,
        "inLanguage": meta.language,
        "keywords": meta.keywords,
        "citeAs": meta.citation,
        "isLiveDataset": False,
        "distribution": [_file_object(out_dir, name) for name in tables],
        "recordSet": [_record_set(name, frame, meta) for name, frame in tables.items()],
        "prov:wasDerivedFrom": [_source_entity(s) for s in meta.sources],
        "prov:wasGeneratedBy": {
            "@type": "prov:Activity",
            "@id": f"urn:factory:run:{meta.run_id}",
            "name": f"factory run {meta.run_id}",
            "prov:endedAtTime": meta.created_at,
            "prov:wasAssociatedWith": {
                "@type": "prov:SoftwareAgent",
                "name": f"factory {meta.factory_version}",
            },
            "prov:used": [
                {"@type": "prov:Entity", "name": m["name"], "identifier": m["fingerprint"]}
                for m in meta.models
            ],
        },
        "prov:wasAttributedTo": creators,
    }
    doc.update({f"rai:{name}": rai[name] for name in RAI_FIELDS if rai.get(name)})
    return doc


def write_croissant(
    out_dir: Path, tables: dict[str, pl.DataFrame], meta: CroissantMeta, rai: dict[str, Any]
) -> Path:
    """Write `croissant.json` into `out_dir` and return its path."""
    path = Path(out_dir) / CROISSANT_NAME
    doc = croissant_jsonld(Path(out_dir), tables, meta, rai)
    text = json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def release_meta(r: Release, factory_version: str) -> CroissantMeta:
    """The dataset-level Croissant facts of the release, from its card and its run."""
    card, report, version = r.card, r.report, r.version
    sources = [dict(s) for s in report.sources]
    for s in sources:
        s["license_class"] = license_terms(s["license"]).use_class
    return CroissantMeta(
        name=card.pretty_name,
        description=(card.description + " " if card.description else "")
        + summary(card, report, r.tables),
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


def release_rai(r: Release) -> dict[str, Any]:
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
        "personalSensitiveInformation": personal_data(card, report),
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
