"""Source readers, chosen by name from an explicit registry.

Each reader turns one configured source into `RawRecord`s. A row it cannot read becomes a
rejected record (file, line, reason, raw text); a source it cannot read at all (no header, a
header naming a column twice, no row with the text field) raises `SourceError` naming the file
and the fix. Files are read by their byte-order mark (`factory.corpus.encoding`).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from factory.config import FactoryConfig, SourceConfig
from factory.corpus.encoding import (
    Line,
    bom_codec,
    decode_document,
    decoded_lines,
    looks_like_utf16_without_bom,
    undecodable_reason,
)
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
    if looks_like_utf16_without_bom(data):
        msg = (
            f"source {source.id!r}: {str(path)!r} is mostly NUL bytes: UTF-16 without a "
            "byte-order mark, or not text at all; save it as UTF-8 (or as UTF-16 with a BOM)"
        )
        raise SourceError(msg)
    return data


def _loads(line: str) -> tuple[Any, list[str]]:
    """The JSON value of `line`, and the keys its top-level object holds more than once."""
    repeated: list[str] = []

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        counts = Counter(key for key, _ in pairs)
        repeated[:] = [f"key {key!r} appears {n} times" for key, n in counts.items() if n > 1]
        return dict(pairs)

    value = json.loads(line, object_pairs_hook=pairs_to_dict)  # the outermost object comes last
    return value, repeated


def read_jsonl(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """One JSON object per line; malformed, undecodable or non-object lines and objects with a
    repeated key are rejected records. No object with the text field at all is a `SourceError`."""
    path = _existing_file(source, config)
    uri = _display_path(path, config)
    data = _read_bytes(source, path)
    undecodable = undecodable_reason(bom_codec(data)[0])
    keys: dict[str, None] = {}
    for number, line, shown in decoded_lines(data):
        if line is None:
            yield RawRecord.rejected(uri, number, undecodable, shown)
            continue
        if not line.strip():
            continue
        try:
            obj, repeated = _loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield RawRecord.rejected(uri, number, f"malformed JSON: {reason}", line)
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield RawRecord.rejected(
                uri, number, f"wrong schema: a JSON {kind}, not an object", line
            )
            continue
        if repeated:
            yield RawRecord.rejected(
                uri, number, f"wrong schema: {repeated[0]} in one object", line
            )
            continue
        keys |= dict.fromkeys(obj)
        yield RawRecord(uri, number, obj, None, line)
    if keys and source.text_field not in keys:
        msg = (
            f"source {source.id!r}: {uri!r}: no object has the text field "
            f"{source.text_field!r}; its keys are {list(keys)}; set `text_field` to one of them"
        )
        raise SourceError(msg)


def _require_field(source: SourceConfig, uri: str, columns: list[str]) -> None:
    if source.text_field not in columns:
        msg = (
            f"source {source.id!r}: {uri!r} has no text column {source.text_field!r}; "
            f"its columns are {columns}; set `text_field` to one of them"
        )
        raise SourceError(msg)


def read_csv(source: SourceConfig, config: FactoryConfig) -> Iterator[RawRecord]:
    """A CSV file whose first non-blank line is the header; stray quotes, undecodable lines and
    wrong field counts become rejected records. A header that cannot be read, lacks the text
    column or names a column twice is a `SourceError`."""
    path = _existing_file(source, config)
    uri = _display_path(path, config)
    data = _read_bytes(source, path)
    undecodable = undecodable_reason(bom_codec(data)[0])
    lines = list(decoded_lines(data))
    header: list[str] | None = None
    i = 0
    while i < len(lines):
        number, line, shown = lines[i]
        if line is not None and not line.strip():
            i += 1
            continue
        if line is None:
            if header is None:
                _bad_header(source, uri, number, undecodable, "save the file as UTF-8")
            yield RawRecord.rejected(uri, number, undecodable, shown)
            i += 1
            continue
        row, used, reason = _csv_record(lines, i, config.ingest.csv_max_record_lines)
        text = "".join(entry[1] or "" for entry in lines[i : i + max(used, 1)])
        if header is None:
            if reason is not None:
                _bad_header(source, uri, number, reason, "fix the header line")
            header = _header(source, uri, row)
            i += used
            continue
        if reason is not None:
            yield RawRecord.rejected(uri, number, reason, text)
            i += 1
            continue
        i += used
        if len(row) != len(header):
            reason = f"wrong schema: {len(row)} fields, the header has {len(header)}"
            yield RawRecord.rejected(uri, number, reason, text)
            continue
        yield RawRecord(uri, number, dict(zip(header, row, strict=True)), None, text)
    if header is None:
        msg = f"source {source.id!r}: {uri!r} has no readable header line"
        raise SourceError(msg)


def _bad_header(source: SourceConfig, uri: str, number: int, reason: str, fix: str) -> NoReturn:
    problem = reason.removeprefix("undecodable: ")
    msg = f"source {source.id!r}: {uri!r} line {number}: the header is {problem}; {fix}"
    raise SourceError(msg)


def _header(source: SourceConfig, uri: str, row: list[str]) -> list[str]:
    """The column names of a header row: with the text column, each name once."""
    header = [name.strip() for name in row]
    _require_field(source, uri, header)
    for name, count in Counter(header).items():
        if count > 1:
            msg = (
                f"source {source.id!r}: {uri!r} has column {name!r} {count} times in its header "
                f"{header}; rename or drop the copies, so no column's values are lost"
            )
            raise SourceError(msg)
    return header


def _csv_record(lines: list[Line], start: int, max_lines: int) -> tuple[list[str], int, str | None]:
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
        text, reason = decode_document(data)
        if text is None:
            yield RawRecord.rejected(uri, None, reason, data.decode("utf-8", "replace"))
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
