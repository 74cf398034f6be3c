"""Lineage: the hash-chained ledger, OpenLineage events, row-level trace and impact, and the
secret scan every record passes. The release packaging built on them is `lineage.release`.

Never imports dagster; the Dagster side calls these functions from `assets/`.

Example:
    >>> from lineage import Ledger
    >>> Ledger(tmp / "ledger.jsonl").append("run", {"run_id": "abc"})  # doctest: +SKIP
"""

from __future__ import annotations

from lineage.errors import LineageError, SecretInLineageError
from lineage.ledger import Ledger, VerifyResult, record_hash
from lineage.openlineage import DatasetRef, OpenLineageEmitter
from lineage.secrets import ensure_no_secrets, find_secrets, redact_secrets
from lineage.trace import LineageTables, impact, read_lineage_tables, trace_sample

__all__ = [
    "DatasetRef",
    "Ledger",
    "LineageError",
    "LineageTables",
    "OpenLineageEmitter",
    "SecretInLineageError",
    "VerifyResult",
    "ensure_no_secrets",
    "find_secrets",
    "impact",
    "read_lineage_tables",
    "record_hash",
    "redact_secrets",
    "trace_sample",
]
