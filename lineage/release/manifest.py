"""`MANIFEST.sha256`: the SHA-256 of every file of a release, checkable with `sha256sum -c`.

One line per file, sorted by path: `<64 hex digits>  <path relative to the folder>` (two spaces,
the GNU coreutils text format). The manifest does not list itself, nor files under
`SIGNATURE_NAMES` (a signature covers the manifest, so it cannot be inside it).

Example:
    >>> write_manifest(release_dir)  # doctest: +SKIP
    PosixPath('.../MANIFEST.sha256')
    >>> verify_manifest(release_dir)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from lineage.errors import LineageError

__all__ = ["MANIFEST_NAME", "SIGNATURE_NAMES", "file_sha256", "verify_manifest", "write_manifest"]

MANIFEST_NAME = "MANIFEST.sha256"
SIGNATURE_NAMES = frozenset({"model.sig", "signature.sig", "signature.json"})
_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed_files(folder: Path) -> list[str]:
    """Every file the manifest must cover, as sorted POSIX paths relative to `folder`."""
    out = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        name = path.relative_to(folder).as_posix()
        if name == MANIFEST_NAME or name in SIGNATURE_NAMES:
            continue
        if "\n" in name or "\\" in name:
            msg = f"file name {name!r} in {folder} holds a newline or backslash; rename it"
            raise LineageError(msg)
        out.append(name)
    return sorted(out)


def write_manifest(folder: Path) -> Path:
    """Write `folder/MANIFEST.sha256` over every file in it and return its path."""
    folder = Path(folder)
    lines = [f"{file_sha256(folder / name)}  {name}\n" for name in _listed_files(folder)]
    path = folder / MANIFEST_NAME
    path.write_text("".join(lines), encoding="utf-8")
    return path


def verify_manifest(folder: Path) -> list[str]:
    """Every way `folder` differs from its manifest, one line each; empty when it matches."""
    folder = Path(folder)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return [f"{MANIFEST_NAME} is missing from {folder}"]
    problems: list[str] = []
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _LINE.match(line)
        if match is None:
            problems.append(f"{MANIFEST_NAME} line {number} is malformed: {line[:80]!r}")
            continue
        listed[match.group(2)] = match.group(1)
    present = set(_listed_files(folder))
    for name, expected in sorted(listed.items()):
        if name not in present:
            problems.append(f"{name}: listed in the manifest but missing")
        elif file_sha256(folder / name) != expected:
            problems.append(f"{name}: content changed (SHA-256 differs from the manifest)")
    for name in sorted(present - set(listed)):
        problems.append(f"{name}: not in the manifest (added after the release was written)")
    return problems
