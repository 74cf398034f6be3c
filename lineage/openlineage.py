"""OpenLineage run events (START, COMPLETE, FAIL) written to a JSON Lines file.

Uses openlineage-python's `OpenLineageClient` with a `FileTransport` in append mode: every event
is one JSON line in `log_file`. (With `append=False` the transport would instead write one file
per event, named `<log_file>-<%Y%m%d-%H%M%S.%f>.json`, or with `debug_mode`
`<log_file>-<%y%m%dT%H%M%S.%f>-<job>-<EVENT>.json`; the factory always appends to one file.)

Facets written: run `processing_engine` (factory's version), `parent` (when a parent run is
given) and `errorMessage` (FAIL); job `jobType` (BATCH, integration FACTORY) and `documentation`;
dataset `schema`, `version`, `documentation`; `inputStatistics` / `outputStatistics` row counts.
Every event is checked for secrets before it is emitted; error messages are redacted. Emits hold
an exclusive `fcntl.flock` on `<log_file>.lock`, so parallel processes never interleave lines.

Example:
    >>> import tempfile
    >>> emitter = OpenLineageEmitter(Path(tempfile.mkdtemp()) / "openlineage.jsonl")
    >>> docs = DatasetRef("factory", "corpus_documents", [("doc_id", "string", "hash")], "ab12")
    >>> emitter.complete(str(uuid.uuid4()), "corpus_documents", [], [docs])["eventType"]
    'COMPLETE'
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from factory.locks import file_lock
from lineage.errors import LineageError
from lineage.secrets import ensure_no_secrets, redact_secrets

__all__ = ["DEFAULT_PRODUCER", "DatasetRef", "OpenLineageEmitter"]

DEFAULT_PRODUCER = "https://github.com/factory/factory"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset as lineage sees it: namespace, name, columns (name, type, meaning), version."""

    namespace: str
    name: str
    schema_fields: list[tuple[str, str, str]] | None = None
    version: str | None = None
    description: str | None = None
    row_count: int | None = None


def _factory_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("factory-data")
    except PackageNotFoundError:
        return None


def _check_run_id(run_id: str) -> str:
    try:
        return str(uuid.UUID(str(run_id)))
    except ValueError as exc:
        msg = (
            f"OpenLineage run ids are UUIDs, got {run_id!r}; pass the Dagster run id "
            "(`context.run_id`) or str(uuid.uuid4())"
        )
        raise LineageError(msg) from exc


class OpenLineageEmitter:
    """Emit OpenLineage run events for factory jobs into one JSON Lines file."""

    def __init__(
        self,
        log_file: Path,
        namespace: str = "factory",
        producer: str = DEFAULT_PRODUCER,
    ) -> None:
        self.log_file = Path(log_file)
        self.namespace = namespace
        self.producer = producer
        self._client: Any = None

    def _get_client(self) -> Any:
        if self._client is None:
            from openlineage.client import OpenLineageClient
            from openlineage.client.transport.file import FileConfig, FileTransport

            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            transport = FileTransport(FileConfig(log_file_path=str(self.log_file), append=True))
            self._client = OpenLineageClient(transport=transport)
        return self._client

    def _dataset_facets(self, ref: DatasetRef) -> dict[str, Any]:
        from openlineage.client.generated import (
            dataset_version_dataset,
            documentation_dataset,
            schema_dataset,
        )

        facets: dict[str, Any] = {}
        if ref.schema_fields is not None:
            fields = [
                schema_dataset.SchemaDatasetFacetFields(
                    name=name, type=type_, description=desc or None, ordinal_position=i
                )
                for i, (name, type_, desc) in enumerate(ref.schema_fields, start=1)
            ]
            facets["schema"] = schema_dataset.SchemaDatasetFacet(
                fields=fields, producer=self.producer
            )
        if ref.version is not None:
            facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
                datasetVersion=ref.version, producer=self.producer
            )
        if ref.description:
            facets["documentation"] = documentation_dataset.DocumentationDatasetFacet(
                description=ref.description, producer=self.producer
            )
        return facets

    def _inputs(self, refs: list[DatasetRef]) -> list[Any]:
        from openlineage.client.event_v2 import InputDataset
        from openlineage.client.generated import input_statistics_input_dataset as stats

        out = []
        for ref in refs:
            input_facets: dict[str, Any] = {}
            if ref.row_count is not None:
                input_facets["inputStatistics"] = stats.InputStatisticsInputDatasetFacet(
                    rowCount=ref.row_count, producer=self.producer
                )
            out.append(
                InputDataset(
                    namespace=ref.namespace,
                    name=ref.name,
                    facets=self._dataset_facets(ref),
                    inputFacets=input_facets,
                )
            )
        return out

    def _outputs(self, refs: list[DatasetRef]) -> list[Any]:
        from openlineage.client.event_v2 import OutputDataset
        from openlineage.client.generated import output_statistics_output_dataset as stats

        out = []
        for ref in refs:
            output_facets: dict[str, Any] = {}
            if ref.row_count is not None:
                output_facets["outputStatistics"] = stats.OutputStatisticsOutputDatasetFacet(
                    rowCount=ref.row_count, producer=self.producer
                )
            out.append(
                OutputDataset(
                    namespace=ref.namespace,
                    name=ref.name,
                    facets=self._dataset_facets(ref),
                    outputFacets=output_facets,
                )
            )
        return out

    def _emit(
        self,
        state: str,
        run_id: str,
        job_name: str,
        *,
        inputs: list[DatasetRef],
        outputs: list[DatasetRef],
        run_facets: dict[str, Any],
        job_description: str | None,
        parent: tuple[str, str] | None,
        event_time: datetime | None,
    ) -> dict[str, Any]:
        from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
        from openlineage.client.generated import (
            documentation_job,
            job_type_job,
            parent_run,
            processing_engine_run,
        )
        from openlineage.client.serde import Serde

        run_id = _check_run_id(run_id)
        facets = dict(run_facets)
        version = _factory_version()
        if version is not None:
            facets["processing_engine"] = processing_engine_run.ProcessingEngineRunFacet(
                version=version, name="factory", producer=self.producer
            )
        if parent is not None:
            parent_id, parent_job = _check_run_id(parent[0]), parent[1]
            facets["parent"] = parent_run.ParentRunFacet(
                run=parent_run.Run(runId=parent_id),
                job=parent_run.Job(namespace=self.namespace, name=parent_job),
                producer=self.producer,
            )
        job_facets: dict[str, Any] = {
            "jobType": job_type_job.JobTypeJobFacet(
                processingType="BATCH",
                integration="FACTORY",
                jobType="ASSET",
                producer=self.producer,
            )
        }
        if job_description:
            job_facets["documentation"] = documentation_job.DocumentationJobFacet(
                description=job_description, producer=self.producer
            )
        when = (event_time or datetime.now(UTC)).astimezone(UTC)
        event = RunEvent(
            eventType=RunState[state],
            eventTime=when.isoformat(timespec="milliseconds"),
            run=Run(runId=run_id, facets=facets),
            job=Job(namespace=self.namespace, name=job_name, facets=job_facets),
            inputs=self._inputs(inputs),
            outputs=self._outputs(outputs),
            producer=self.producer,
        )
        as_dict: dict[str, Any] = Serde.to_dict(event)
        ensure_no_secrets(as_dict, f"openlineage {state} event of {job_name}")
        client = self._get_client()
        with file_lock(self.log_file.with_name(self.log_file.name + ".lock")):
            client.emit(event)
        return as_dict

    def start(
        self,
        run_id: str,
        job_name: str,
        inputs: list[DatasetRef],
        *,
        job_description: str | None = None,
        parent: tuple[str, str] | None = None,
        event_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Emit a START event; returns it as a dict. `parent` is (parent run id, parent job)."""
        return self._emit(
            "START",
            run_id,
            job_name,
            inputs=inputs,
            outputs=[],
            run_facets={},
            job_description=job_description,
            parent=parent,
            event_time=event_time,
        )

    def complete(
        self,
        run_id: str,
        job_name: str,
        inputs: list[DatasetRef],
        outputs: list[DatasetRef],
        *,
        job_description: str | None = None,
        parent: tuple[str, str] | None = None,
        event_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Emit a COMPLETE event with the datasets read and written; returns it as a dict."""
        return self._emit(
            "COMPLETE",
            run_id,
            job_name,
            inputs=inputs,
            outputs=outputs,
            run_facets={},
            job_description=job_description,
            parent=parent,
            event_time=event_time,
        )

    def fail(
        self,
        run_id: str,
        job_name: str,
        error_message: str,
        *,
        stack_trace: str | None = None,
        inputs: list[DatasetRef] | None = None,
        parent: tuple[str, str] | None = None,
        event_time: datetime | None = None,
    ) -> dict[str, Any]:
        """Emit a FAIL event with an `errorMessage` facet (credentials redacted)."""
        from openlineage.client.generated import error_message_run

        error = error_message_run.ErrorMessageRunFacet(
            message=redact_secrets(error_message),
            programmingLanguage="PYTHON",
            stackTrace=redact_secrets(stack_trace) if stack_trace else None,
            producer=self.producer,
        )
        return self._emit(
            "FAIL",
            run_id,
            job_name,
            inputs=inputs or [],
            outputs=[],
            run_facets={"errorMessage": error},
            job_description=None,
            parent=parent,
            event_time=event_time,
        )

    def events(self) -> list[dict[str, Any]]:
        """Every event in the log file, in the order written."""
        if not self.log_file.exists():
            return []
        lines = self.log_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
