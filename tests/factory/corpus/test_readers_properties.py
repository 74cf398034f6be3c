"""Property-based: whatever a source file holds, no row is lost and nothing crashes unexplained.

Random JSON Lines, CSV, Parquet and folders of text go in, in UTF-8, UTF-8 with a BOM, UTF-16
and UTF-32 (with BOMs), with missing fields, wrong types, blank lines, duplicate keys and headers,
garbage bytes and truncation. Out comes either a `FactoryError` that names the file, or a corpus
where every row (every non-blank line after a CSV header; every Parquet row; every folder file)
is exactly one document or one quarantine row with a known reason.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factory.config import FactoryConfig
from factory.corpus import IngestResult, ingest_corpus
from factory.errors import FactoryError

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
REASONS = {
    "undecodable", "malformed JSON", "malformed CSV", "wrong schema", "wrong type",
    "missing field", "empty", "too short", "over-long", "exact duplicate",
    "conflicting duplicate", "over max_documents",
}  # fmt: skip
ENCODINGS = {
    "utf-8": ("utf-8", b""),
    "utf-8-sig": ("utf-8", codecs.BOM_UTF8),
    "utf-16-le": ("utf-16-le", codecs.BOM_UTF16_LE),
    "utf-16-be": ("utf-16-be", codecs.BOM_UTF16_BE),
    "utf-32-le": ("utf-32-le", codecs.BOM_UTF32_LE),
}
_BREAK = re.compile(r"\r\n|\r|\n")

json_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip
one_line = st.text(max_size=12).map(lambda s: _BREAK.sub(" ", s))


@st.composite
def jsonl_line(draw: st.DrawFn) -> str:
    """One line: an object (text of any type or absent, other keys), a duplicate key, a JSON
    value that is not an object, text that is not JSON, or a blank line."""
    kind = draw(st.sampled_from(["object", "object", "duplicate", "value", "garbage", "blank"]))
    if kind == "object":
        keys = draw(st.dictionaries(st.sampled_from(["text", "label", "answer", "x"]), json_values))
        if draw(st.booleans()):
            keys["text"] = draw(st.text(min_size=1, max_size=20))
        return json.dumps(keys, ensure_ascii=draw(st.booleans()))
    if kind == "duplicate":
        return f'{{"text": {json.dumps(draw(one_line))}, "text": "b"}}'
    if kind == "value":
        return json.dumps(draw(json_values))
    if kind == "garbage":
        return draw(one_line)
    return draw(st.sampled_from(["", "  ", "\t"]))


@st.composite
def encoded(draw: st.DrawFn, lines: list[str]) -> bytes:
    """`lines` joined and encoded, maybe with garbage units inserted and the end cut off."""
    codec, bom = ENCODINGS[draw(st.sampled_from(sorted(ENCODINGS)))]
    unit = len("a".encode(codec))
    parts = [line.encode(codec, "surrogatepass") for line in lines]
    for _ in range(draw(st.integers(0, 2))):
        garbage = draw(st.binary(min_size=1, max_size=4).filter(lambda b: b"\n" not in b))
        garbage = garbage.ljust(-(-len(garbage) // unit) * unit, b"\xff")  # whole code units
        parts.insert(draw(st.integers(0, len(parts))), garbage)
    data = bom + "\n".encode(codec).join(parts) + "\n".encode(codec) * draw(st.integers(0, 1))
    if draw(st.booleans()):
        data = data[: draw(st.integers(len(bom), len(data)))]
    return data


def _physical_lines(data: bytes) -> list[tuple[int, str]]:
    """(1-based number, text) of every non-blank line, read independently of the readers."""
    marked = sorted(ENCODINGS.values(), key=lambda cb: -len(cb[1]))  # FF FE 00 00 is UTF-32
    codec, bom = next(((c, bom) for c, bom in marked if data.startswith(bom)), ("utf-8", b""))
    lines = _BREAK.split(data[len(bom) :].decode(codec, "replace"))
    if lines and lines[-1] == "":
        lines.pop()
    return [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a document from an object with duplicate keys {keys}"
    return dict(pairs)


def _ingest(folder: Path, source: dict[str, Any], **sections: Any) -> IngestResult:
    cfg = FactoryConfig.from_dict(
        {"sources": [{"id": "src", "license": "MIT", **source}], **sections}, base_dir=folder
    )
    return ingest_corpus(cfg)


def _accounted_lines(result: IngestResult) -> list[int]:
    """The line of every document and every quarantine row; checks every reason on the way."""
    assert result.stats.read == result.documents.height + result.quarantine.height
    for reason in result.quarantine["reason"]:
        assert reason.split(":", 1)[0] in REASONS, reason
    lines = [int(uri.rsplit("#L", 1)[1]) for uri in result.documents["source_uri"]]
    return sorted(lines + result.quarantine["line"].to_list())


def _outcome(folder: Path, name: str, source: dict[str, Any], **sections: Any) -> Any:
    """The result, or None after checking that the error names the source and the file."""
    try:
        return _ingest(folder, {"path": name, **source}, **sections)
    except FactoryError as exc:
        message = str(exc)
    assert name in message, message
    assert "'src'" in message, message
    return None


@SETTINGS
@given(
    lines=st.lists(jsonl_line(), max_size=12),
    data=st.data(),
    limit=st.none() | st.integers(1, 4),
    task=st.sampled_from(["text", "classification", "qa"]),
)
def test_jsonl_every_line_is_a_document_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[str],
    data: st.DataObject,
    limit: int | None,
    task: str,
) -> None:
    folder = tmp_path_factory.mktemp("jsonl")
    raw = data.draw(encoded(lines))
    (folder / "d.jsonl").write_bytes(raw)
    result = _outcome(
        folder, "d.jsonl", {"kind": "jsonl"}, ingest={"max_documents": limit}, task={"kind": task}
    )
    if result is None:
        return
    lines = dict(_physical_lines(raw))
    assert _accounted_lines(result) == sorted(lines)
    for uri in result.documents["source_uri"]:
        obj = json.loads(lines[int(uri.rsplit("#L", 1)[1])], object_pairs_hook=_unique_keys)
        assert isinstance(obj["text"], str)


def _csv_line(fields: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue()


@SETTINGS
@given(
    header=st.lists(st.sampled_from(["text", "label", "x", "y"]), min_size=1, max_size=4),
    rows=st.lists(
        st.one_of(
            st.lists(one_line, min_size=1, max_size=5).map(_csv_line),
            one_line,  # stray quotes and all
            st.sampled_from(["", " "]),
        ),
        max_size=12,
    ),
    data=st.data(),
)
def test_csv_every_line_after_the_header_is_a_document_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory,
    header: list[str],
    rows: list[str],
    data: st.DataObject,
) -> None:
    folder = tmp_path_factory.mktemp("csv")
    raw = data.draw(encoded([",".join(header), *rows]))
    (folder / "d.csv").write_bytes(raw)
    one_line_records = {"csv_max_record_lines": 1}  # a line never joins the next: exact count
    result = _outcome(folder, "d.csv", {"kind": "csv"}, ingest=one_line_records)
    if result is None:
        return
    (_, header_line), *rows_read = _physical_lines(raw)
    columns = next(csv.reader([header_line]))
    assert len(columns) == len(set(columns)), f"duplicate header {columns} was not refused"
    assert _accounted_lines(result) == [n for n, _ in rows_read]


@SETTINGS
@given(
    rows=st.lists(st.lists(st.text(max_size=15), min_size=2, max_size=2), min_size=1, max_size=10),
    encoding=st.sampled_from(sorted(ENCODINGS)),
)
def test_csv_fields_spanning_lines_stay_one_row(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], encoding: str
) -> None:
    folder = tmp_path_factory.mktemp("csv-multiline")
    out = io.StringIO()
    csv.writer(out).writerows([["text", "label"], *rows])  # quotes fields with \r or \n
    codec, bom = ENCODINGS[encoding]
    (folder / "d.csv").write_bytes(bom + out.getvalue().encode(codec, "surrogatepass"))
    result = _outcome(folder, "d.csv", {"kind": "csv"})
    if result is not None:
        assert len(_accounted_lines(result)) == len(rows)


_COLUMNS = {
    "str": st.text(max_size=10),
    "int": st.integers(-(2**40), 2**40),
    "float": st.floats(allow_nan=False),
    "bool": st.booleans(),
    "bytes": st.binary(max_size=6),
    "list": st.lists(st.integers(0, 9), max_size=2),
}


@SETTINGS
@given(
    kind=st.sampled_from(sorted(_COLUMNS)),
    label_kind=st.sampled_from(sorted(_COLUMNS)),
    data=st.data(),
    cut=st.none() | st.floats(0, 1),
)
def test_parquet_every_row_is_a_document_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory,
    kind: str,
    label_kind: str,
    data: st.DataObject,
    cut: float | None,
) -> None:
    folder = tmp_path_factory.mktemp("parquet")
    n = data.draw(st.integers(1, 8))
    text = data.draw(st.lists(st.none() | _COLUMNS[kind], min_size=n, max_size=n))
    label = data.draw(st.lists(st.none() | _COLUMNS[label_kind], min_size=n, max_size=n))
    pl.DataFrame({"text": text, "label": label}, strict=False).write_parquet(folder / "d.parquet")
    if cut is not None:
        whole = (folder / "d.parquet").read_bytes()
        (folder / "d.parquet").write_bytes(whole[: int(len(whole) * cut)])
    result = _outcome(folder, "d.parquet", {"kind": "parquet"}, task={"kind": "classification"})
    if result is not None:
        assert _accounted_lines(result) == list(range(1, n + 1))
        if kind != "str" or label_kind not in {"str", "int"}:
            assert result.documents.height == 0


@SETTINGS
@given(
    files=st.lists(
        st.one_of(
            st.binary(max_size=20),
            st.tuples(st.text(max_size=20), st.sampled_from(sorted(ENCODINGS))).map(
                lambda te: ENCODINGS[te[1]][1] + te[0].encode(ENCODINGS[te[1]][0], "surrogatepass")
            ),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_folder_every_file_is_a_document_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory, files: list[bytes]
) -> None:
    folder = tmp_path_factory.mktemp("folder")
    (folder / "docs").mkdir()
    for i, content in enumerate(files):
        (folder / "docs" / f"f{i}.txt").write_bytes(content)
    result = _ingest(folder, {"kind": "folder", "path": "docs"})
    assert result.stats.read == result.documents.height + result.quarantine.height
    uris = [*result.documents["source_uri"], *result.quarantine["source_uri"]]
    assert sorted(uris) == sorted(f"docs/f{i}.txt" for i in range(len(files)))
