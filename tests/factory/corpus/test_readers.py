"""Every reader on good input, and every kind of bad input: a clear error or a quarantined row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.config import FactoryConfig
from factory.corpus import ingest_corpus
from factory.errors import SourceError


def _config(tmp_path: Path, source: dict[str, Any], **sections: Any) -> FactoryConfig:
    data = {"sources": [{"id": "src", **source}], **sections}
    return FactoryConfig.from_dict(data, base_dir=tmp_path)


def test_jsonl_good_and_malformed_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"text": "first document", "category": "a"}),
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"text": None}),
        "",
        json.dumps({"text": "second   document\r\n", "category": "b"}),
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = _config(tmp_path, {"kind": "jsonl", "path": "d.jsonl", "fields": {"category": "label"}})
    result = ingest_corpus(cfg)
    assert sorted(result.documents["text"]) == ["first document", "second document"]
    assert sorted(result.documents["label"]) == ["a", "b"]
    q = result.quarantine.sort("line")
    assert q["line"].to_list() == [2, 3, 4]
    assert q["reason"][0].startswith("malformed JSON")
    assert q["reason"][1].startswith("wrong schema")
    assert q["reason"][2].startswith("missing field")
    assert q["raw"][0] == "{not json\n"
    assert set(q["source_uri"]) == {"d.jsonl"}


def test_non_utf8_bytes_are_quarantined_with_their_line(tmp_path: Path) -> None:
    good = json.dumps({"text": "fine"}).encode()
    (tmp_path / "d.jsonl").write_bytes(
        good + b"\n" + b'{"text": "caf\xe9"}\n' + good.replace(b"fine", b"ok") + b"\n"
    )
    result = ingest_corpus(_config(tmp_path, {"kind": "jsonl", "path": "d.jsonl"}))
    assert result.documents.height == 2
    assert result.quarantine.select("line", "reason").row(0) == (2, "undecodable: not valid UTF-8")
    assert "caf\ufffd" in result.quarantine["raw"][0]


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    with pytest.raises(SourceError, match=r"empty\.jsonl.*is empty"):
        ingest_corpus(_config(tmp_path, {"kind": "jsonl", "path": "empty.jsonl"}))


def test_missing_file_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"nope\.csv.*does not exist; fix `path`"):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "nope.csv"}))


def test_missing_text_column_lists_the_columns(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("body,category\nhello,a\n")
    with pytest.raises(
        SourceError, match=r"no text column 'text'; its columns are \['body', 'category'\]"
    ):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "d.csv"}))


def test_csv_stray_quote_and_wrong_field_count(tmp_path: Path) -> None:
    rows = [
        "text,category",
        "I lost my card,lost_card",
        '"Where is my money,transfer',  # stray quote: never closes
        "Why was I charged twice,charge",
        'A "quoted" word inside,other',
        '"multi-line, legit\nfield",other',
        "too,many,fields",
        "Last row,last",
    ]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = _config(
        tmp_path,
        {"kind": "csv", "path": "d.csv", "fields": {"category": "label"}},
        ingest={"csv_max_record_lines": 3},
    )
    result = ingest_corpus(cfg)
    texts = set(result.documents["text"])
    assert {"I lost my card", "Why was I charged twice", "Last row"} <= texts
    assert 'A "quoted" word inside' in texts
    assert "multi-line, legit\nfield" in texts
    reasons = dict(zip(result.quarantine["line"], result.quarantine["reason"], strict=True))
    assert reasons[3].startswith("malformed CSV")
    assert reasons[8].startswith("wrong schema: 3 fields")


def test_over_long_and_empty_documents(tmp_path: Path) -> None:
    big = "word " * 1_000_000  # a 5 MB document
    (tmp_path / "d.jsonl").write_text(
        "\n".join(json.dumps({"text": t}) for t in [big, "   ", "fine"]) + "\n"
    )
    result = ingest_corpus(_config(tmp_path, {"kind": "jsonl", "path": "d.jsonl"}))
    assert result.documents["text"].to_list() == ["fine"]
    reasons = sorted(result.quarantine["reason"])
    assert reasons[0].startswith("empty")
    assert reasons[1].startswith("over-long: 4999999 chars > ingest.max_chars=100000")
    assert (
        len(result.quarantine.filter(pl.col("reason").str.starts_with("over"))["raw"][0]) == 10_000
    )


def test_parquet_reader(tmp_path: Path) -> None:
    pl.DataFrame({"body": ["alpha doc", None, "beta doc"], "y": ["1", "2", "3"]}).write_parquet(
        tmp_path / "d.parquet"
    )
    cfg = _config(tmp_path, {"kind": "parquet", "path": "d.parquet", "text_field": "body"})
    result = ingest_corpus(cfg)
    assert sorted(result.documents["text"]) == ["alpha doc", "beta doc"]
    assert result.quarantine["reason"].to_list() == ["missing field: 'body' is absent or null"]
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(SourceError, match="not a readable Parquet file"):
        ingest_corpus(_config(tmp_path, {"kind": "parquet", "path": "broken.parquet"}))


def test_folder_reader(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "a.txt").write_text("Alpha text.")
    (docs / "sub" / "b.md").write_text("# Beta\n\nMarkdown body.")
    (docs / "skip.py").write_text("print('not a document')")
    (docs / "bad.txt").write_bytes(b"\xff\xfe\xfa")
    result = ingest_corpus(_config(tmp_path, {"kind": "folder", "path": "docs"}))
    assert sorted(result.documents["text"]) == ["# Beta\n\nMarkdown body.", "Alpha text."]
    assert result.quarantine["source_uri"].to_list() == ["docs/bad.txt"]


def test_folder_without_documents_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(SourceError, match=r"holds no \.txt or \.md files"):
        ingest_corpus(_config(tmp_path, {"kind": "folder", "path": "nothing"}))


def test_hf_disk_dataset_dict_with_its_splits(tmp_path: Path) -> None:
    import datasets

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"text": ["one thing", "two things"], "intent": ["a", "b"]}
            ),
            "test": datasets.Dataset.from_dict({"text": ["three things"], "intent": ["c"]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "saved"))
    cfg = _config(
        tmp_path,
        {"kind": "hf_disk", "path": "saved", "fields": {"intent": "label"}, "split_field": "split"},
        task={"kind": "classification"},
    )
    result = ingest_corpus(cfg)
    got = dict(zip(result.documents["text"], result.documents["split"], strict=True))
    assert got == {"one thing": "train", "two things": "train", "three things": "test"}


def test_hub_source_offline_is_a_clear_error(tmp_path: Path) -> None:
    cfg = _config(tmp_path, {"kind": "hub", "dataset_id": "nobody/nothing-here"})
    with pytest.raises(SourceError, match=r"cannot load hub dataset 'nobody/nothing-here'"):
        ingest_corpus(cfg)


def _ingest_lines(tmp_path: Path, lines: list[str], **source: Any) -> Any:
    (tmp_path / "d.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ingest_corpus(_config(tmp_path, {"kind": "jsonl", "path": "d.jsonl", **source}))


def test_non_string_text_is_quarantined_as_a_wrong_type(tmp_path: Path) -> None:
    values: list[Any] = [5, 1.5, True, ["a", "list"], {"an": "object"}, "a real document"]
    result = _ingest_lines(tmp_path, [json.dumps({"text": v}) for v in values])
    assert result.documents["text"].to_list() == ["a real document"]
    reasons = result.quarantine.sort("line")["reason"].to_list()
    kinds = ["int", "float", "bool", "list", "dict"]
    assert reasons == [f"wrong type: field 'text' is {k}, expected str" for k in kinds]
    assert result.stats.reasons == {"wrong type": 5}


def test_non_string_parquet_text_is_quarantined_as_a_wrong_type(tmp_path: Path) -> None:
    pl.DataFrame({"body": [b"bytes", b"more"]}).write_parquet(tmp_path / "b.parquet")
    pl.DataFrame({"body": [[1, 2], [3]]}).write_parquet(tmp_path / "l.parquet")
    for name, kind in (("b.parquet", "bytes"), ("l.parquet", "list")):
        cfg = _config(tmp_path, {"kind": "parquet", "path": name, "text_field": "body"})
        result = ingest_corpus(cfg)
        assert result.documents.height == 0
        assert set(result.quarantine["reason"]) == {
            f"wrong type: field 'body' is {kind}, expected str"
        }


def test_a_duplicate_csv_header_is_refused_naming_the_file_and_column(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,label,text\nfirst,a,second\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"'d\.csv' has column 'text' 2 times in its header"):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "d.csv"}))


def test_a_duplicate_json_key_is_quarantined(tmp_path: Path) -> None:
    lines = ['{"text": "first", "text": "second"}', json.dumps({"text": "fine"})]
    result = _ingest_lines(tmp_path, lines)
    assert result.documents["text"].to_list() == ["fine"]
    assert result.quarantine.select("line", "reason").rows() == [
        (1, "wrong schema: key 'text' appears 2 times in one object")
    ]


def test_a_first_jsonl_row_without_the_text_key_is_only_that_row(tmp_path: Path) -> None:
    lines = [json.dumps({"body": "no text here"}), json.dumps({"text": "a document"})]
    result = _ingest_lines(tmp_path, lines)
    assert result.documents["text"].to_list() == ["a document"]
    assert result.quarantine.select("line", "reason").rows() == [
        (1, "missing field: 'text' is absent or null")
    ]


def test_jsonl_where_no_row_has_the_text_key_is_a_clear_error(tmp_path: Path) -> None:
    lines = [json.dumps({"body": "one"}), json.dumps({"body": "two", "extra": 1})]
    with pytest.raises(
        SourceError, match=r"no object has the text field 'text'; its keys are \['body', 'extra'\]"
    ):
        _ingest_lines(tmp_path, lines)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_csv_and_jsonl_with_a_byte_order_mark_are_read(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16-be": "\ufeff"}.get(encoding, "")  # utf-16 and utf-32 write their own BOM
    (tmp_path / "d.csv").write_bytes((bom + "text,label\nhéllo,a\nwörld,b\n").encode(encoding))
    jsonl = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in ["één", "twee"])
    (tmp_path / "d.jsonl").write_bytes((bom + jsonl).encode(encoding))
    csv_result = ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "d.csv"}))
    assert sorted(csv_result.documents["text"]) == ["héllo", "wörld"]
    json_result = ingest_corpus(_config(tmp_path, {"kind": "jsonl", "path": "d.jsonl"}))
    assert sorted(json_result.documents["text"]) == ["twee", "één"]
    assert csv_result.quarantine.height == json_result.quarantine.height == 0


def test_a_utf16_line_that_does_not_decode_is_quarantined(tmp_path: Path) -> None:
    good = "text\nfirst row\n".encode("utf-16-le")
    lone_surrogate = b"\x00\xd8" + "x\n".encode("utf-16-le")
    (tmp_path / "d.csv").write_bytes(
        b"\xff\xfe" + good + lone_surrogate + "last\n".encode("utf-16-le")
    )
    result = ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "d.csv"}))
    assert sorted(result.documents["text"]) == ["first row", "last"]
    assert result.quarantine.select("line", "reason").rows() == [
        (3, "undecodable: not valid UTF-16")
    ]


def test_utf16_without_a_byte_order_mark_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_bytes("text\nhello\nworld\n".encode("utf-16-le"))
    with pytest.raises(SourceError, match=r"UTF-16 without a byte-order mark.*save it as UTF-8"):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "d.csv"}))


def test_folder_files_with_a_byte_order_mark_are_read(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_bytes("Grüße aus UTF-16.".encode("utf-16"))
    (docs / "b.txt").write_bytes("no BOM in UTF-16".encode("utf-16-le"))
    result = ingest_corpus(_config(tmp_path, {"kind": "folder", "path": "docs"}))
    assert result.documents["text"].to_list() == ["Grüße aus UTF-16."]
    assert result.quarantine.select("source_uri", "reason").rows() == [
        ("docs/b.txt", "undecodable: UTF-16 without a byte-order mark or binary; save as UTF-8")
    ]


def test_a_csv_header_that_cannot_be_read_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text('"text,label\nhello,a\n', encoding="utf-8")
    with pytest.raises(SourceError, match=r"'q\.csv' line 1: the header is malformed CSV"):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "q.csv"}))
    (tmp_path / "b.csv").write_bytes(b"t\xffxt\ntext\nhello\n")
    with pytest.raises(SourceError, match=r"'b\.csv' line 1: the header is not valid UTF-8"):
        ingest_corpus(_config(tmp_path, {"kind": "csv", "path": "b.csv"}))
