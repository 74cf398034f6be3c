"""Lineage: the hash-chained ledger, OpenLineage events, row-level trace and impact, the release
writer and its manifest.

Never imports dagster; the Dagster side calls these functions from `assets/`.

Example:
    >>> from lineage import Ledger
    >>> Ledger(tmp / "ledger.jsonl").append("run", {"run_id": "abc"})  # doctest: +SKIP
"""

from __future__ import annotations

from lineage.errors import LineageError, SecretInLineageError
from lineage.ledger import Ledger, VerifyResult, record_hash
from lineage.manifest import MANIFEST_NAME, verify_manifest, write_manifest
from lineage.openlineage import DatasetRef, OpenLineageEmitter
from lineage.release import size_category, write_release
from lineage.release_info import (
    CardInfo,
    CheckEntry,
    GapEntry,
    ModelEntry,
    ReleaseInfo,
    ReportInfo,
    SourceEntry,
    StudentEntry,
)
from lineage.secrets import ensure_no_secrets, find_secrets, redact_secrets
from lineage.trace import LineageTables, impact, read_lineage_tables, trace_sample

__all__ = [
    "MANIFEST_NAME",
    "CardInfo",
    "CheckEntry",
    "DatasetRef",
    "GapEntry",
    "Ledger",
    "LineageError",
    "LineageTables",
    "ModelEntry",
    "OpenLineageEmitter",
    "ReleaseInfo",
    "ReportInfo",
    "SecretInLineageError",
    "SourceEntry",
    "StudentEntry",
    "VerifyResult",
    "ensure_no_secrets",
    "find_secrets",
    "impact",
    "read_lineage_tables",
    "record_hash",
    "redact_secrets",
    "size_category",
    "trace_sample",
    "verify_manifest",
    "write_manifest",
    "write_release",
]
