"""The release as a library: facts, the folder writer, the card and report (Jinja2 templates),
Croissant, PROV, the manifest, signing, verification, publishing and license classes.

Built on `lineage` (the ledger, OpenLineage events, secrets); never imports `assets` or dagster.

Example:
    >>> info = write_release(out, {"synthetic": s, "train": t}, card, report)  # doctest: +SKIP
    >>> verify_release(info.path, public_key=key).ok  # doctest: +SKIP
    True
"""

from __future__ import annotations

from lineage.release.build import BuiltRelease, build_release, signing_entry
from lineage.release.exclusions import Exclusion, exclude
from lineage.release.facts import (
    PiiScanner,
    ReleaseFacts,
    ReleaseRun,
    ReleaseTables,
    build_release_facts,
)
from lineage.release.info import CardInfo, ReleaseInfo, ReportInfo, layers_from_ledger
from lineage.release.publish import PublishError, PublishRefusedError, publish_release
from lineage.release.render import render_png
from lineage.release.signing import init_keys, sign_release
from lineage.release.trust import read_trusted_keys, trust_key
from lineage.release.verify import ReleaseVerification, verify_release
from lineage.release.writer import write_release

__all__ = [
    "BuiltRelease",
    "CardInfo",
    "Exclusion",
    "PiiScanner",
    "PublishError",
    "PublishRefusedError",
    "ReleaseFacts",
    "ReleaseInfo",
    "ReleaseRun",
    "ReleaseTables",
    "ReleaseVerification",
    "ReportInfo",
    "build_release",
    "build_release_facts",
    "exclude",
    "init_keys",
    "layers_from_ledger",
    "publish_release",
    "read_trusted_keys",
    "render_png",
    "sign_release",
    "signing_entry",
    "trust_key",
    "verify_release",
    "write_release",
]
