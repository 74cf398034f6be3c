"""Content hashes and chained fingerprints.

A fingerprint is the SHA-256 of a canonical JSON encoding of its parts. Anything that cannot be
encoded canonically raises instead of falling back to a random or time-based id.

Example:
    >>> fingerprint({"b": 1, "a": [1, 2]}) == fingerprint({"a": [1, 2], "b": 1})
    True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from factory.errors import FactoryError

__all__ = ["content_hash", "fingerprint", "frame_fingerprint", "hash_file", "hash_files"]

_CHUNK = 1 << 20


def content_hash(text: str) -> str:
    """SHA-256 hex digest of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(_canonical(v) for v in value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _canonical(dump(mode="json"))
    msg = f"cannot fingerprint a value of type {type(value).__name__}: {value!r}; pass plain data"
    raise FactoryError(msg)


def fingerprint(*parts: Any) -> str:
    """SHA-256 of the canonical JSON of `parts` (dict keys sorted, floats by repr)."""
    payload = json.dumps(_canonical(list(parts)), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def hash_file(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def hash_files(paths: Iterable[Path], root: Path) -> str:
    """One digest over several files: their paths relative to `root` and their contents."""
    h = hashlib.sha256()
    for path in sorted(Path(p) for p in paths):
        h.update(str(path.relative_to(root)).encode("utf-8") + b"\0")
        h.update(hash_file(path).encode("ascii"))
    return h.hexdigest()


def frame_fingerprint(frame: Any, columns: list[str]) -> str:
    """Content digest of `columns` of a polars frame (vector columns by their float32 bytes,
    list and struct columns by their JSON)."""
    import numpy as np
    import polars as pl

    h = hashlib.sha256()
    for name in columns:
        series = frame[name]
        h.update(name.encode("utf-8") + b"\0")
        if isinstance(series.dtype, pl.Array):
            h.update(np.ascontiguousarray(series.to_numpy(), dtype=np.float32).tobytes())
            continue
        if isinstance(series.dtype, (pl.List, pl.Struct)):
            values = [json.dumps(v, sort_keys=True) for v in series.to_list()]
        else:
            values = series.cast(pl.String).fill_null("\x00null").to_list()
        h.update("\x1f".join(values).encode("utf-8"))
    return h.hexdigest()
