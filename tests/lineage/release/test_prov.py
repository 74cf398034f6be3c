"""provenance.prov.json: PROV-JSON that the `prov` package reads back, matching the release."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import prov
from prov.model import (
    ProvActivity,
    ProvAgent,
    ProvAssociation,
    ProvAttribution,
    ProvDerivation,
    ProvDocument,
    ProvEntity,
    ProvGeneration,
    ProvMembership,
    ProvUsage,
)

from lineage.release.manifest import file_sha256
from lineage.release.prov import release_prov
from tests.fixtures.release import (
    PIPELINE,
    RUN,
    card,
    report,
)


def _pairs(doc: ProvDocument, kind: type) -> set[tuple[str, str]]:
    return {(str(r.args[0]), str(r.args[1])) for r in doc.get_records(kind)}


def _attrs(record: Any) -> dict[str, Any]:
    return {str(k): v for k, v in record.attributes}


def _run(step: str) -> str:
    return f"run:{uuid.uuid5(uuid.UUID(RUN), step)}"


def test_prov_json_reads_back_with_the_release_graph(sample_release: Path, tmp_path: Path) -> None:
    text = (sample_release / "provenance.prov.json").read_text(encoding="utf-8")
    doc = prov.read(io.StringIO(text), format="json")
    assert doc == ProvDocument.deserialize(content=text, format="json")
    facts = report(tmp_path / "again")
    layers = {x["table"]: x for x in facts.layers}

    entities = {str(e.identifier): _attrs(e) for e in doc.get_records(ProvEntity)}
    tables = {f"table:{t}.{x['data_version']}" for t, x in layers.items()}
    assert set(entities) == {
        "source:banking77",
        *tables,
        "model:embedder",
        "model:teacher",
        "model:student",
        f"release:{sample_release.name}",
        f"release:{sample_release.name}.synthetic",
        f"release:{sample_release.name}.train",
    }
    for name in ("synthetic", "train"):
        member = entities[f"release:{sample_release.name}.{name}"]
        assert member["factory:sha256"] == file_sha256(sample_release / "data" / f"{name}.parquet")
    assert entities["model:teacher"]["factory:fingerprint"] == "f" * 16
    assert entities["source:banking77"]["factory:license_class"] == "commercial"
    activities = {str(a.identifier): _attrs(a) for a in doc.get_records(ProvActivity)}
    steps = [step for _, step, _ in PIPELINE] + ["dataset_release"]
    assert set(activities) == {_run(step) for step in steps}
    assert activities[_run("coverage_gaps")]["factory:code_version"] == "coverage_gaps-v2"
    assert activities[_run("coverage_gaps")]["factory:dagster_run_id"] == RUN
    agents = {str(a.identifier): _attrs(a) for a in doc.get_records(ProvAgent)}
    assert agents["agent:maintainer-1"]["prov:label"] == "data-team@example.org"

    generated = _pairs(doc, ProvGeneration)
    used = _pairs(doc, ProvUsage)
    derived = _pairs(doc, ProvDerivation)
    for table, layer in layers.items():
        entity = f"table:{table}.{layer['data_version']}"
        assert (entity, _run(layer["asset"])) in generated, table
        for name, version in layer["inputs"].items():
            assert (_run(layer["asset"]), f"table:{name}.{version}") in used, (table, name)
            assert (entity, f"table:{name}.{version}") in derived, (table, name)
    corpus = f"table:corpus_documents.{layers['corpus_documents']['data_version']}"
    assert (corpus, "source:banking77") in derived
    assert (_run("corpus_documents"), "source:banking77") in used
    assert (_run("synthetic_samples"), "model:teacher") in used
    assert (_run("synthetic_samples"), "model:embedder") in used
    assert (_run("document_embeddings"), "model:embedder") in used
    assert ("model:student", _run("student_checkpoint")) in generated
    assert (f"release:{sample_release.name}", _run("dataset_release")) in generated
    assert _pairs(doc, ProvAssociation) == {(a, "agent:factory") for a in activities}
    name = sample_release.name
    assert _pairs(doc, ProvAttribution) == {(f"release:{name}", "agent:maintainer-1")}
    assert _pairs(doc, ProvMembership) == {
        (f"release:{name}", f"release:{name}.{n}") for n in ("synthetic", "train")
    }


def test_a_release_without_ledger_records_is_still_generated_by_its_run(tmp_path: Path) -> None:
    facts = report(tmp_path, layers=[], student=None)
    doc = release_prov("v1", card(maintainers=[]), facts, {"data/train.parquet": "a" * 64})
    text = doc.serialize(format="json")
    back = ProvDocument.deserialize(content=text, format="json")
    activities = {str(a.identifier) for a in back.get_records(ProvActivity)}
    assert activities == {f"run:{RUN}.release"}
    assert _pairs(back, ProvGeneration) == {
        ("release:v1", f"run:{RUN}.release"),
        ("release:v1.train", f"run:{RUN}.release"),
    }
    assert not list(back.get_records(ProvAttribution))


def test_a_later_rounds_input_names_become_valid_prov_identifiers(tmp_path: Path) -> None:
    layer = {"table": "coverage_gaps", "asset": "coverage_gaps", "run_id": RUN,
             "code_version": "gaps-v3", "data_version": "b" * 64,
             "inputs": {"student_evaluation[round 1]": "c" * 64}}  # fmt: skip
    facts = report(tmp_path, layers=[layer], student=None)
    doc = release_prov("v2", card(maintainers=[]), facts, {"data/train.parquet": "a" * 64})
    back = ProvDocument.deserialize(content=doc.serialize(format="json"), format="json")
    entities = {str(e.identifier) for e in back.get_records(ProvEntity)}
    assert f"table:student_evaluation%5Bround%201%5D.{'c' * 64}" in entities
