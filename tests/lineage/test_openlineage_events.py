"""OpenLineage events: every emitted line validates against the local 2-0-2 spec and its facets."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from lineage import DatasetRef, LineageError, OpenLineageEmitter, SecretInLineageError
from tests.fixtures.paths import test_data_dir

CORPUS = DatasetRef(
    "file:///data/corpus",
    "corpus_documents",
    [("doc_id", "string", "SHA-256 of the text"), ("text", "string", "normalized text")],
    "3f2a9c",
    description="the ingested corpus",
    row_count=400,
)
SAMPLES = DatasetRef(
    "factory",
    "synthetic_samples",
    [("sample_id", "string", "hash"), ("gap_id", "string", "")],
    "77d0e1",
    row_count=120,
)


@pytest.fixture(scope="module")
def spec_dir() -> Path:
    """The OpenLineage spec folder of the shared data; skips when it is absent."""
    root = test_data_dir()
    if root is None or not (root / "openlineage-spec" / "OpenLineage.json").is_file():
        pytest.skip("openlineage-spec not found: set FACTORY_TEST_DATA or place shared/data")
    return root / "openlineage-spec"


@pytest.fixture(scope="module")
def registry(spec_dir: Path) -> Any:
    """A `referencing.Registry` of every local schema by its `$id`; it never retrieves."""
    from referencing import Registry, Resource

    resources = []
    for path in [spec_dir / "OpenLineage.json", *sorted((spec_dir / "facets").glob("*.json"))]:
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    return Registry().with_resources(resources)


def _validate(event: dict[str, Any], registry: Any) -> list[str]:
    """Errors of `event` against OpenLineage.json and of each facet against its `_schemaURL`."""
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER
    errors = []
    # The root schema is oneOf(RunEvent, DatasetEvent, JobEvent); a RunEvent without `run` would
    # still pass as a JobEvent, so also hold every event to the RunEvent definition.
    for ref in ("OpenLineage.json", "OpenLineage.json#/$defs/RunEvent"):
        schema = {"$ref": f"https://openlineage.io/spec/2-0-2/{ref}"}
        validator = Draft202012Validator(schema, registry=registry, format_checker=checker)
        errors += [f"{ref}: {e.message}" for e in validator.iter_errors(event)]
    for facet in _facets(event):
        url = facet["_schemaURL"]
        validator = Draft202012Validator({"$ref": url}, registry=registry, format_checker=checker)
        errors += [f"{url}: {e.message}" for e in validator.iter_errors(facet)]
    return errors


def _facets(node: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "_schemaURL" in node:
            found.append(node)
        for value in node.values():
            found += _facets(value)
    elif isinstance(node, list):
        for value in node:
            found += _facets(value)
    return found


def _emit_run(log: Path) -> tuple[OpenLineageEmitter, str]:
    emitter = OpenLineageEmitter(log)
    run_id = str(uuid.uuid4())
    parent = (str(uuid.uuid4()), "materialize_all")
    emitter.start(run_id, "synthetic_samples", [CORPUS], parent=parent, job_description="synth")
    emitter.complete(run_id, "synthetic_samples", [CORPUS], [SAMPLES], parent=parent)
    emitter.fail(str(uuid.uuid4()), "student_checkpoint", "out of memory", stack_trace="Trace")
    return emitter, run_id


def test_emitted_events_validate_against_local_spec(tmp_path: Path, registry: Any) -> None:
    log = tmp_path / "provenance" / "openlineage.jsonl"
    _, run_id = _emit_run(log)
    lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [e["eventType"] for e in lines] == ["START", "COMPLETE", "FAIL"]
    for event in lines:
        assert _validate(event, registry) == []
    urls = {f["_schemaURL"].split("#")[0] for e in lines for f in _facets(e)}
    assert {u.rsplit("/", 1)[1] for u in urls} >= {
        "SchemaDatasetFacet.json",
        "DatasetVersionDatasetFacet.json",
        "ErrorMessageRunFacet.json",
        "ParentRunFacet.json",
    }
    start, complete, fail = lines
    assert start["run"]["runId"] == complete["run"]["runId"] == run_id
    out = complete["outputs"][0]
    assert out["facets"]["version"]["datasetVersion"] == "77d0e1"
    assert [f["name"] for f in out["facets"]["schema"]["fields"]] == ["sample_id", "gap_id"]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 120
    assert complete["inputs"][0]["facets"]["documentation"]["description"] == "the ingested corpus"
    assert fail["run"]["facets"]["errorMessage"]["message"] == "out of memory"


def test_validation_can_fail(tmp_path: Path, registry: Any) -> None:
    log = tmp_path / "ol.jsonl"
    _emit_run(log)
    event = json.loads(log.read_text(encoding="utf-8").splitlines()[1])
    del event["run"]
    event["outputs"][0]["facets"]["version"]["datasetVersion"] = 7
    errors = _validate(event, registry)
    assert any("'run' is a required property" in e for e in errors), errors
    assert any("DatasetVersionDatasetFacet" in e for e in errors), errors


def test_append_mode_writes_one_file(tmp_path: Path) -> None:
    log = tmp_path / "lineage" / "ol.jsonl"
    emitter, _ = _emit_run(log)
    assert sorted(p.name for p in log.parent.iterdir()) == ["ol.jsonl", "ol.jsonl.lock"]
    assert len(emitter.events()) == 3


def test_file_transport_without_append_writes_timestamped_files(tmp_path: Path) -> None:
    """Pins the installed package's naming that lineage.openlineage documents."""
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.transport.file import FileConfig, FileTransport

    folder = tmp_path / "lineage"
    folder.mkdir()
    transport = FileTransport(FileConfig(log_file_path=str(folder / "ol"), append=False))
    transport.emit(
        RunEvent(
            eventType=RunState.START,
            eventTime="2026-01-01T00:00:00+00:00",
            run=Run(runId=str(uuid.uuid4())),
            job=Job(namespace="factory", name="x"),
        )
    )
    names = [p.name for p in folder.iterdir()]
    assert len(names) == 1
    assert re.fullmatch(r"ol-\d{8}-\d{6}\.\d{6}\.json", names[0]), names


def test_error_messages_are_redacted(tmp_path: Path) -> None:
    emitter = OpenLineageEmitter(tmp_path / "ol.jsonl")
    token = "hf_" + "Zx9" * 12
    event = emitter.fail(str(uuid.uuid4()), "publish", f"401 for token {token}")
    assert token not in (tmp_path / "ol.jsonl").read_text(encoding="utf-8")
    assert event["run"]["facets"]["errorMessage"]["message"] == "401 for token [REDACTED]"


def test_secrets_and_bad_run_ids_are_refused(tmp_path: Path) -> None:
    emitter = OpenLineageEmitter(tmp_path / "ol.jsonl")
    leaky = DatasetRef("factory", "x", description="key sk-" + "a" * 30)
    with pytest.raises(SecretInLineageError):
        emitter.start(str(uuid.uuid4()), "job", [leaky])
    with pytest.raises(LineageError, match="UUID"):
        emitter.start("run-42", "job", [CORPUS])
    assert emitter.events() == []
