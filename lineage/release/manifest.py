"""`MANIFEST.sha256`: the SHA-256 of every file of a release, checkable with `sha256sum -c`.

One line per file, sorted by path: `<64 hex digits>  <path relative to the folder>` (two spaces,
the GNU coreutils text format). The manifest does not list itself, nor the signature file
(`SIGNATURE_NAMES`: a signature covers the manifest, so it cannot be inside it); every other
file is listed, whatever its name. A release holds
plain files and folders only: a symbolic link (to a file, to a folder, or dangling) or any other
special file is named as a problem and never followed, so nothing outside the folder can hide in it.

Example:
    >>> write_manifest(release_dir)  # doctest: +SKIP
    PosixPath('.../MANIFEST.sha256')
    >>> verify_manifest(release_dir)  # doctest: +SKIP
    []
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

from lineage.errors import LineageError

__all__ = ["MANIFEST_NAME", "SIGNATURE_NAMES", "file_sha256", "verify_manifest", "write_manifest"]

MANIFEST_NAME = "MANIFEST.sha256"
SIGNATURE_NAMES = frozenset({"signature.sig"})
"""Top-level files the manifest leaves out: only the signature (`signing.SIGNATURE_NAME`)."""
_LINE = re.compile(r"^([0-9a-f]{64})  (\S.*)$")


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_SPECIAL = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
            (stat.S_ISBLK, "a device"))  # fmt: skip


def _odd_entry(path: Path) -> str | None:
    """Why `path` has no place in a release (a link or a special file), or None."""
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return f"a symbolic link (to {os.readlink(path)!r})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((what for test, what in _SPECIAL if test(mode)), "not a regular file")


def _odd_name(rel: str) -> str | None:
    """Why a name cannot be a manifest line (sha256sum's text format), or None."""
    if any(c in rel for c in "\n\r\\"):
        return "a name holding a newline or backslash (or a carriage return)"
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "a name that is not UTF-8"
    return None


def _scan(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The files the manifest must cover (sorted POSIX paths relative to `folder`), and every
    link or special file found, with why it does not belong; links are never followed."""
    files: list[str] = []
    odd: dict[str, str] = {}
    for root, dirs, names in os.walk(folder, followlinks=False):
        for name in sorted([*dirs, *names]):
            path = Path(root) / name
            rel = path.relative_to(folder).as_posix()
            why = _odd_entry(path) or _odd_name(rel)
            if why is not None:
                odd[rel] = why
            elif name in names and rel != MANIFEST_NAME and rel not in SIGNATURE_NAMES:
                files.append(rel)
    return sorted(files), odd


def _odd_problem(name: str, why: str) -> str:
    if why.startswith("a name"):
        return f"{name!r}: {why}; rename it"
    if why.startswith("a symbolic link"):
        return f"{name}: {why}; a release holds plain files only: remove it"
    return f"{name}: not a regular file ({why}); a release holds plain files only: remove it"


def write_manifest(folder: Path) -> Path:
    """Write `folder/MANIFEST.sha256` over every file in it and return its path."""
    folder = Path(folder)
    files, odd = _scan(folder)
    if odd:
        msg = f"cannot write the manifest of {folder}: " + "; ".join(
            _odd_problem(name, why) for name, why in sorted(odd.items())
        )
        raise LineageError(msg)
    lines = [f"{file_sha256(folder / name)}  {name}\n" for name in files]
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
    # bytes, not read_text: no newline translation, no crash on a flipped byte; and split on
    # "\n" only (str.splitlines would also split at U+2028, which a name may hold)
    lines = path.read_bytes().decode("utf-8", errors="replace").split("\n")
    for number, line in enumerate(lines[:-1] if lines[-1] == "" else lines, start=1):
        match = _LINE.match(line)
        if match is None:
            problems.append(f"{MANIFEST_NAME} line {number} is malformed: {line[:80]!r}")
            continue
        listed[match.group(2)] = match.group(1)
    files, odd = _scan(folder)
    present = set(files)
    problems += [_odd_problem(name, why) for name, why in sorted(odd.items())]
    for name, expected in sorted(listed.items()):
        if name in odd:
            continue
        if name not in present:
            problems.append(f"{name}: listed in the manifest but missing")
        elif file_sha256(folder / name) != expected:
            problems.append(f"{name}: content changed (SHA-256 differs from the manifest)")
    for name in sorted(present - set(listed)):
        problems.append(f"{name}: not in the manifest (added after the release was written)")
    return problems
