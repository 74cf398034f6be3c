"""Source readers, chosen by name from an explicit registry.

Each reader turns one configured source into `RawRecord`s. A row it cannot read becomes a
rejected record (file, line, reason, raw text); a source it cannot read at all raises
`SourceError` naming the file and the fix.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.records import RawRecord
from factory.errors import ConfigError, SourceError

__all__ = ["READERS", "read_source"]

Reader = Callable[[SourceConfig, FactoryConfig], Iterator[RawRecord]]


def read_source(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """Yield the records of one source with the reader registered for its kind."""
    try:
        reader = READERS[source.kind]
    except KeyError as exc:
        msg = f"unknown source kind {source.kind!r}; expected one of {sorted(READERS)}"
        raise ConfigError(msg) from exc
    return reader(source, config)


def _display_path(path: Path, config: FactoryConfig) -> str:
    try:
        return str(path.relative_to(config.base_dir))
    except ValueError:
        return str(path)


def _existing_file(source: SourceConfig, config: FactoryConfig) -> Path:
    path = config.resolve(source.path or "")
    if not path.exists():
        msg = f"source {source.id!r}: file {str(path)!r} does not exist; fix `path` in the config"
        raise SourceError(msg)
    if not path.is_file():
        msg = f"source {source.id!r}: {str(path)!r} is not a file; use kind 'folder' for a folder"
        raise SourceError(msg)
    return path


def _read_bytes(source: SourceConfig, path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"source {source.id!r}: cannot read {str(path)!r}: {exc.strerror or exc}"
        raise SourceError(msg) from exc
    if not data.strip():
        msg = (
            f"source {source.id!r}: file {str(path)!r} is empty; remove the source or fill the file"
        )
        raise SourceError(msg)
    return data


def _decoded_lines(data: bytes) -> Iterator[tuple[int, str | None, bytes]]:
    """(1-based line number, text or None when not UTF-8, raw bytes) for every physical line."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        try:
            yield number, raw.decode("utf-8"), raw
        except UnicodeDecodeError:
            yield number, None, raw


def read_jsonl(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """One JSON object per line; malformed or non-UTF-8 lines are rejected records."""
    path = _existing_file(source, config)
    uri = _display_path(path, config)
    checked_header = False
    for number, line, raw in _decoded_lines(_read_bytes(source, path)):
        if line is None:
            shown = raw.decode("utf-8", "replace")
            yield RawRecord.rejected(uri, number, "undecodable: not valid UTF-8", shown)
            continue
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RawRecord.rejected(uri, number, f"malformed JSON: {exc.msg}", line)
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield RawRecord.rejected(
                uri, number, f"wrong schema: a JSON {kind}, not an object", line
            )
            continue
        if not checked_header:
            _require_field(source, uri, list(obj))
            checked_header = True
        yield RawRecord(uri, number, obj, None, line)


def _require_field(source: SourceConfig, uri: str, columns: list[str]) -> None:
    if source.text_field not in columns:
        msg = (
            f"source {source.id!r}: {uri!r} has no text column {source.text_field!r}; "
            f"its columns are {columns}; set `text_field` to one of them"
        )
        raise SourceError(msg)


def read_csv(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """A CSV file with a header; stray quotes and wrong field counts become rejected records."""
    path = _existing_file(source, config)
    uri = _display_path(path, config)
    lines = list(_decoded_lines(_read_bytes(source, path)))
    header: list[str] | None = None
    i = 0
    while i < len(lines):
        number, line, raw = lines[i]
        if line is None:
            shown = raw.decode("utf-8", "replace")
            yield RawRecord.rejected(uri, number, "undecodable: not valid UTF-8", shown)
            i += 1
            continue
        if not line.strip():
            i += 1
            continue
        row, used, reason = _csv_record(lines, i, config.ingest.csv_max_record_lines)
        text = "".join(entry[1] or "" for entry in lines[i : i + max(used, 1)])
        if reason is not None:
            yield RawRecord.rejected(uri, number, reason, text)
            i += 1
            continue
        i += used
        if header is None:
            header = [name.strip() for name in row]
            _require_field(source, uri, header)
            continue
        if len(row) != len(header):
            reason = f"wrong schema: {len(row)} fields, the header has {len(header)}"
            yield RawRecord.rejected(uri, number, reason, text)
            continue
        yield RawRecord(uri, number, dict(zip(header, row, strict=True)), None, text)
    if header is None:
        msg = f"source {source.id!r}: {uri!r} has no readable header line"
        raise SourceError(msg)


def _csv_record(
    lines: list[tuple[int, str | None, bytes]], start: int, max_lines: int
) -> tuple[list[str], int, str | None]:
    """Parse one record starting at `start`, joining lines while a quoted field is open."""
    buffer = ""
    for used in range(1, max_lines + 1):
        index = start + used - 1
        if index >= len(lines) or lines[index][1] is None:
            break
        buffer += lines[index][1] or ""
        try:
            rows = list(csv.reader(io.StringIO(buffer), strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                continue
            return [], 1, f"malformed CSV: {exc}"
        return (rows[0] if rows else []), used, None
    return [], 1, "malformed CSV: unbalanced quote (a quoted field never closes)"


def read_parquet(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """A Parquet file; every row becomes a record."""
    import polars as pl

    path = _existing_file(source, config)
    uri = _display_path(path, config)
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several unrelated types for a bad file
        msg = f"source {source.id!r}: {uri!r} is not a readable Parquet file: {exc}"
        raise SourceError(msg) from exc
    _require_field(source, uri, frame.columns)
    for number, row in enumerate(frame.iter_rows(named=True), start=1):
        yield RawRecord(uri, number, row, None, _raw_json(row))


def read_folder(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """Every .txt and .md file under a folder (recursively, sorted) is one document."""
    root = config.resolve(source.path or "")
    if not root.is_dir():
        msg = f"source {source.id!r}: folder {str(root)!r} does not exist; fix `path` in the config"
        raise SourceError(msg)
    files = sorted(
        p for p in root.rglob("*") if p.suffix.lower() in {".txt", ".md"} and p.is_file()
    )
    if not files:
        msg = f"source {source.id!r}: folder {str(root)!r} holds no .txt or .md files"
        raise SourceError(msg)
    for file in files:
        uri = _display_path(file, config)
        try:
            data = file.read_bytes()
        except OSError as exc:
            yield RawRecord.rejected(uri, None, f"unreadable: {exc.strerror or exc}", "")
            continue
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            shown = data.decode("utf-8", "replace")
            yield RawRecord.rejected(uri, None, "undecodable: not valid UTF-8", shown)
            continue
        yield RawRecord(uri, None, {source.text_field: text}, None, text)


def read_hf_disk(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """A `datasets` Dataset or DatasetDict saved with `save_to_disk`."""
    path = config.resolve(source.path or "")
    try:
        import datasets
    except ImportError as exc:
        msg = "kind 'hf_disk' needs the `datasets` package: pip install datasets"
        raise SourceError(msg) from exc
    try:
        loaded = datasets.load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as exc:
        msg = f"source {source.id!r}: {str(path)!r} is not a dataset saved with save_to_disk: {exc}"
        raise SourceError(msg) from exc
    yield from _dataset_records(source, _display_path(path, config), loaded)


def read_hub(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """A Hugging Face Hub dataset by id (needs network or a hub-compatible `HF_ENDPOINT`)."""
    try:
        import datasets
    except ImportError as exc:
        msg = "kind 'hub' needs the `datasets` package: pip install datasets"
        raise SourceError(msg) from exc
    try:
        loaded = datasets.load_dataset(source.dataset_id, split=source.dataset_split)
    except Exception as exc:  # network, auth and format errors all end the same way
        msg = (
            f"source {source.id!r}: cannot load hub dataset {source.dataset_id!r}: {exc}; "
            "when offline, save it with save_to_disk elsewhere and use kind 'hf_disk'"
        )
        raise SourceError(msg) from exc
    yield from _dataset_records(source, f"hf://datasets/{source.dataset_id}", loaded)


def _dataset_records(source: SourceConfig, uri: str, loaded: Any) -> Iterator[RawRecord]:
    import datasets

    if isinstance(loaded, datasets.DatasetDict):
        names = [source.dataset_split] if source.dataset_split else sorted(loaded)
        if source.dataset_split and source.dataset_split not in loaded:
            msg = (
                f"source {source.id!r}: no split {source.dataset_split!r}; it has {sorted(loaded)}"
            )
            raise SourceError(msg)
        parts = [(name, loaded[name]) for name in names]
    else:
        parts = [(source.dataset_split or "", loaded)]
    for name, part in parts:
        _require_field(source, uri, list(part.column_names))
        for number, row in enumerate(part, start=1):
            fields = dict(row)
            if name:
                fields.setdefault("split", name)
            yield RawRecord(f"{uri}/{name}" if name else uri, number, fields, None, _raw_json(row))


def _raw_json(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, default=str)[:10_000]


def _read_stdlib(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    from factory.corpus.stdlib import read_stdlib

    return read_stdlib(source, config)


READERS: dict[str, Reader] = {
    "csv": read_csv,
    "folder": read_folder,
    "hf_disk": read_hf_disk,
    "hub": read_hub,
    "jsonl": read_jsonl,
    "parquet": read_parquet,
    "stdlib": _read_stdlib,
}
