"""Lineage: the hash-chained ledger, OpenLineage events and the release writer.

Never imports dagster; the Dagster side calls these functions from `assets/`.

Example:
    >>> from lineage import Ledger
    >>> Ledger(tmp / "ledger.jsonl").append("run", {"run_id": "abc"})  # doctest: +SKIP
"""

from __future__ import annotations

from lineage.errors import LineageError, SecretInLineageError
from lineage.ledger import Ledger, VerifyResult, record_hash
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

__all__ = [
    "CardInfo",
    "CheckEntry",
    "DatasetRef",
    "GapEntry",
    "Ledger",
    "LineageError",
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
    "record_hash",
    "redact_secrets",
    "size_category",
    "write_release",
]
