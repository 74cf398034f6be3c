"""Lineage: the hash-chained ledger, OpenLineage events, row-level trace and impact, the release
writer with its report, Croissant and PROV exports, its manifest and signature, and the
verifier that checks a release against all three and the ledger.

Never imports dagster; the Dagster side calls these functions from `assets/`.

Example:
    >>> from lineage import Ledger
    >>> Ledger(tmp / "ledger.jsonl").append("run", {"run_id": "abc"})  # doctest: +SKIP
"""

from __future__ import annotations

from lineage.croissant import croissant_jsonld, write_croissant
from lineage.errors import LineageError, SecretInLineageError
from lineage.ledger import Ledger, VerifyResult, record_hash
from lineage.manifest import MANIFEST_NAME, verify_manifest, write_manifest
from lineage.openlineage import DatasetRef, OpenLineageEmitter
from lineage.prov_export import release_prov, write_prov
from lineage.release import release_license, size_category, write_release
from lineage.release_info import (
    CardInfo,
    CheckEntry,
    ExclusionEntry,
    GapEntry,
    LayerEntry,
    ModelEntry,
    PrivacyEntry,
    ReleaseInfo,
    ReportInfo,
    ScanEntry,
    SigningEntry,
    SourceEntry,
    StudentEntry,
    layers_from_ledger,
)
from lineage.render import lineage_svg, render_png
from lineage.secrets import ensure_no_secrets, find_secrets, redact_secrets
from lineage.trace import LineageTables, impact, read_lineage_tables, trace_sample
from lineage.verify import ReleaseVerification, verify_release

__all__ = [
    "MANIFEST_NAME",
    "CardInfo",
    "CheckEntry",
    "DatasetRef",
    "ExclusionEntry",
    "GapEntry",
    "LayerEntry",
    "Ledger",
    "LineageError",
    "LineageTables",
    "ModelEntry",
    "OpenLineageEmitter",
    "PrivacyEntry",
    "ReleaseInfo",
    "ReleaseVerification",
    "ReportInfo",
    "ScanEntry",
    "SecretInLineageError",
    "SigningEntry",
    "SourceEntry",
    "StudentEntry",
    "VerifyResult",
    "croissant_jsonld",
    "ensure_no_secrets",
    "find_secrets",
    "impact",
    "layers_from_ledger",
    "lineage_svg",
    "read_lineage_tables",
    "record_hash",
    "redact_secrets",
    "release_license",
    "release_prov",
    "render_png",
    "size_category",
    "trace_sample",
    "verify_manifest",
    "verify_release",
    "write_croissant",
    "write_manifest",
    "write_prov",
    "write_release",
]
