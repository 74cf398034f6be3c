"""The publisher keys a verifier trusts: a signature authenticates only against one of them.

A release carries a copy of the public key that signed it (`signing-key.pub`), but whoever
re-signs a folder puts their own key there, so that copy proves integrity, never authorship. A
verifier names the keys it trusts itself: `--public-key KEY.pub`, or the trusted-keys file it
keeps (`$FACTORY_TRUSTED_KEYS`, else `$XDG_CONFIG_HOME/factory/trusted-keys`, else
`~/.config/factory/trusted-keys`). One entry a line: a key's SHA-256 fingerprint (64 hex
digits, as `factory keys init`, the card and the report print it) or the path of a PEM public
key (relative paths start at the file's folder); `#` starts a comment.

Example:
    >>> trusted = read_trusted_keys(default_trusted_keys_path())  # doctest: +SKIP
    >>> trust_key(Path("publisher.pub"), default_trusted_keys_path())  # doctest: +SKIP
    '9c1f...'
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from lineage.errors import LineageError
from lineage.release.signing import public_key_fingerprint

__all__ = [
    "TRUSTED_KEYS_ENV",
    "TrustedKeys",
    "default_trusted_keys_path",
    "read_trusted_keys",
    "trust_key",
]

TRUSTED_KEYS_ENV = "FACTORY_TRUSTED_KEYS"
_FINGERPRINT = re.compile(r"^(?:sha256:)?([0-9a-fA-F]{64})$")


@dataclass(frozen=True)
class TrustedKeys:
    """Trusted key fingerprints, each with where it was trusted ("line 3 of FILE")."""

    source: Path | None = None
    fingerprints: dict[str, str] = field(default_factory=dict)


def default_trusted_keys_path() -> Path:
    """`$FACTORY_TRUSTED_KEYS`, else `$XDG_CONFIG_HOME/factory/trusted-keys`, else
    `~/.config/factory/trusted-keys`."""
    if os.environ.get(TRUSTED_KEYS_ENV):
        return Path(os.environ[TRUSTED_KEYS_ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "factory" / "trusted-keys"


def _entry_fingerprint(entry: str, where: str, folder: Path) -> str:
    match = _FINGERPRINT.match(entry)
    if match:
        return match.group(1).lower()
    key = Path(entry).expanduser()
    key = key if key.is_absolute() else folder / key
    if not key.is_file():
        msg = (
            f"{where} is {entry!r}: neither a SHA-256 fingerprint (64 hex digits) nor the path "
            "of a PEM public key that exists; fix or remove the line"
        )
        raise LineageError(msg)
    try:
        return public_key_fingerprint(key)
    except LineageError as exc:
        msg = f"{where} names {str(key)!r}, which is not a PEM public key ({exc}); fix the line"
        raise LineageError(msg) from exc


def read_trusted_keys(path: Path, *, required: bool = False) -> TrustedKeys:
    """The keys listed in the trusted-keys file `path`; a file not made yet trusts nothing
    (unless `required`). Raises `LineageError` naming the first line that is no key."""
    path = Path(path)
    if not path.is_file():
        if required:
            msg = (
                f"trusted-keys file {str(path)!r} does not exist; create it with `factory keys "
                "trust KEY.pub --trusted-keys FILE`, or write one fingerprint or PEM path a line"
            )
            raise LineageError(msg)
        return TrustedKeys(path)
    found: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        entry = line.split("#", 1)[0].strip()
        if entry:
            where = f"line {number} of {path}"
            found.setdefault(_entry_fingerprint(entry, where, path.parent), where)
    return TrustedKeys(path, found)


def trust_key(public_key: Path, path: Path) -> str:
    """Add `public_key`'s fingerprint to the trusted-keys file `path` (made if missing) unless
    it is there already; return the fingerprint."""
    fingerprint = public_key_fingerprint(public_key)
    path = Path(path)
    if fingerprint in read_trusted_keys(path).fingerprints:
        return fingerprint
    path.parent.mkdir(parents=True, exist_ok=True)
    old = path.read_text(encoding="utf-8") if path.is_file() else ""
    sep = "" if not old or old.endswith("\n") else "\n"
    line = f"{fingerprint}  # {Path(public_key).name}\n"
    path.write_text(old + sep + line, encoding="utf-8")
    return fingerprint
