"""Normalization, ids, de-duplication, splits and task fields on real data."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from factory.config import FactoryConfig, SplitConfig
from factory.corpus import ingest_corpus, normalize_text
from factory.corpus.ingest import near_duplicate_pairs
from factory.corpus.splits import assign_split
from factory.hashing import content_hash


def test_normalize_text() -> None:
    assert normalize_text("Cafe\u0301  au\tlait\r\n\r\n\r\n\r\nnext ") == "Café au lait\n\nnext"
    assert normalize_text("\x00\x07  ") == ""


def test_split_is_deterministic_and_roughly_proportional() -> None:
    ids = [content_hash(str(i)) for i in range(20_000)]
    splits = [assign_split(i, SplitConfig(validation=0.1, test=0.2)) for i in ids]
    assert splits == [assign_split(i, SplitConfig(validation=0.1, test=0.2)) for i in ids]
    share = {s: splits.count(s) / len(splits) for s in ("train", "validation", "test")}
    assert abs(share["test"] - 0.2) < 0.01
    assert abs(share["validation"] - 0.1) < 0.01
    other = [assign_split(i, SplitConfig(salt="other")) for i in ids[:2000]]
    assert other != splits[:2000]


def _banking(banking77_slice: Path, **extra: object) -> FactoryConfig:
    source = {
        "id": "banking77",
        "kind": "csv",
        "path": str(banking77_slice),
        "fields": {"category": "label"},
        "license": "CC-BY-4.0",
    }
    return FactoryConfig.from_dict(
        {"task": {"kind": "classification"}, "sources": [source], **extra}
    )


def test_banking77_keeps_labels_ids_and_splits(banking77_slice: Path) -> None:
    result = ingest_corpus(_banking(banking77_slice))
    docs = result.documents
    assert docs.height + result.quarantine.height == 400
    assert docs["label"].null_count() == 0
    assert docs["label"].n_unique() > 1
    assert docs["doc_id"].to_list() == sorted(docs["doc_id"].to_list())
    assert all(content_hash(t) == d for t, d in zip(docs["text"], docs["doc_id"], strict=True))
    assert set(docs["license"]) == {"CC-BY-4.0"}
    assert docs["source_uri"][0].endswith(".csv#L" + docs["source_uri"][0].rsplit("#L", 1)[1])
    assert set(docs["split"]) == {"train", "validation", "test"}


def test_ingestion_does_not_depend_on_row_order(banking77_slice: Path, tmp_path: Path) -> None:
    lines = banking77_slice.read_text(encoding="utf-8").splitlines()
    rng = np.random.default_rng(7)
    body = lines[1:]
    rng.shuffle(body)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([lines[0], *body]) + "\n", encoding="utf-8")
    a = ingest_corpus(_banking(banking77_slice)).documents
    b = ingest_corpus(_banking(shuffled)).documents
    cols = ["doc_id", "text", "label", "split"]
    assert a.select(cols).equals(b.select(cols))


def test_duplicates_are_counted_and_kept_in_quarantine(tmp_path: Path) -> None:
    rows = [("Hello  world", "a"), ("Hello world", "a"), ("Hello world", "b"), ("Other", "c")]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps({"text": t, "y": y}) for t, y in rows))
    cfg = FactoryConfig.from_dict(
        {
            "task": {"kind": "classification"},
            "sources": [{"id": "s", "kind": "jsonl", "path": "d.jsonl", "fields": {"y": "label"}}],
        },
        base_dir=tmp_path,
    )
    result = ingest_corpus(cfg)
    assert result.documents.height == 2
    assert result.stats.exact_duplicates == 2
    reasons = sorted(r.split(":")[0] for r in result.quarantine["reason"])
    assert reasons == ["conflicting duplicate", "exact duplicate"]
    assert result.stats.unlicensed_sources == ["s"]
    assert set(result.documents["license"]) == {"unknown"}


def test_classification_rows_without_a_label_are_quarantined(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,category\nhas label,x\nno label,\n")
    cfg = FactoryConfig.from_dict(
        {
            "task": {"kind": "classification"},
            "sources": [
                {
                    "id": "s",
                    "kind": "csv",
                    "path": "d.csv",
                    "fields": {"category": "label"},
                    "license": "MIT",
                }
            ],
        },
        base_dir=tmp_path,
    )
    result = ingest_corpus(cfg)
    assert result.documents["text"].to_list() == ["has label"]
    assert "needs 'label'" in result.quarantine["reason"][0]


def test_user_split_column_wins_and_bad_values_are_quarantined(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,part\na doc,train\nb doc,dev\nc doc,holdout\n")
    cfg = FactoryConfig.from_dict(
        {
            "sources": [
                {"id": "s", "kind": "csv", "path": "d.csv", "split_field": "part", "license": "MIT"}
            ]
        },
        base_dir=tmp_path,
    )
    result = ingest_corpus(cfg)
    assert dict(zip(result.documents["text"], result.documents["split"], strict=True)) == {
        "a doc": "train",
        "b doc": "validation",
    }
    assert "split value 'holdout'" in result.quarantine["reason"][0]


def test_ingested_at_survives_a_rerun(banking77_slice: Path) -> None:
    first = ingest_corpus(_banking(banking77_slice), now=datetime(2026, 1, 1, tzinfo=UTC)).documents
    again = ingest_corpus(_banking(banking77_slice), previous=first).documents
    assert again["ingested_at"].to_list() == first["ingested_at"].to_list()


def test_max_documents_is_deterministic(banking77_slice: Path) -> None:
    cfg = _banking(banking77_slice, ingest={"max_documents": 50})
    a = ingest_corpus(cfg)
    assert a.documents.height == 50
    assert a.documents["doc_id"].to_list() == ingest_corpus(cfg).documents["doc_id"].to_list()
    assert a.stats.excluded_by_max_documents > 0


def test_near_duplicate_pairs_are_greedy_over_kept_rows() -> None:
    v = np.array([[1, 0], [0.999, 0.0447], [0.99, 0.141], [0, 1]], dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    found = near_duplicate_pairs(v, threshold=0.995, block=2)
    assert set(found) == {1}
    assert found[1][0] == 0


def test_near_duplicates_with_the_real_embedder(tmp_path: Path, minilm: object) -> None:
    texts = [
        "How do I reset my card PIN?",
        "How can I reset the PIN of my card?",
        "What is the weather like?",
    ]
    (tmp_path / "d.jsonl").write_text("\n".join(json.dumps({"text": t}) for t in texts))
    cfg = FactoryConfig.from_dict(
        {
            "sources": [{"id": "s", "kind": "jsonl", "path": "d.jsonl", "license": "MIT"}],
            "ingest": {"near_duplicate_threshold": 0.9},
        },
        base_dir=tmp_path,
    )

    def finder(doc_ids: list[str], batch: list[str]) -> dict[str, tuple[str, float]]:
        vectors = minilm.embed(batch)  # type: ignore[attr-defined]
        pairs = near_duplicate_pairs(vectors, 0.9)
        return {doc_ids[i]: (doc_ids[j], c) for i, (j, c) in pairs.items()}

    result = ingest_corpus(cfg, near_duplicates=finder)
    assert result.documents.height == 2
    assert result.stats.near_duplicates == 1
    assert result.quarantine["reason"][0].startswith("near duplicate: cosine 0.9")
    assert "weather" in " ".join(result.documents["text"])


def test_stats_metadata_is_plain_data(banking77_slice: Path) -> None:
    meta = ingest_corpus(_banking(banking77_slice)).stats.as_metadata()
    json.dumps(meta)
    assert meta["accepted"] + meta["quarantined"] == meta["read"]
    assert pl.Series(list(meta["splits"].values())).sum() == meta["accepted"]


def _jsonl_config(tmp_path: Path, rows: list[dict[str, object]], **extra: object) -> FactoryConfig:
    (tmp_path / "d.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    source = {"id": "s", "kind": "jsonl", "path": "d.jsonl", "license": "MIT"}
    return FactoryConfig.from_dict({"sources": [source], **extra}, base_dir=tmp_path)


def test_task_fields_take_strings_and_integers_and_quarantine_other_types(
    tmp_path: Path,
) -> None:
    labels: list[object] = ["lost_card", 7, 2.5, True, ["a"], {"k": 1}]
    rows = [{"text": f"document {i}", "label": v} for i, v in enumerate(labels)]
    rows.append({"text": "a question", "answer": 42})
    result = ingest_corpus(_jsonl_config(tmp_path, rows, task={"kind": "classification"}))
    kept = dict(zip(result.documents["text"], result.documents["label"], strict=True))
    assert kept == {"document 0": "lost_card", "document 1": "7"}
    reasons = result.quarantine.sort("line")["reason"].to_list()
    kinds = ["float", "bool", "list", "dict"]
    assert reasons[:4] == [f"wrong type: field 'label' is {k}, expected str or int" for k in kinds]
    assert "needs 'label'" in reasons[4]  # the answer row has no label at all
    qa = ingest_corpus(_jsonl_config(tmp_path, rows[-1:], task={"kind": "qa"}))
    assert qa.documents["answer"].to_list() == ["42"]


def test_a_mapped_column_wins_over_a_column_of_the_same_name(tmp_path: Path) -> None:
    for header in ("text,label,category", "text,category,label"):
        (tmp_path / "d.csv").write_text(f"{header}\nhello,x,y\n")
        source = {"id": "s", "kind": "csv", "path": "d.csv", "fields": {"category": "label"}}
        cfg = FactoryConfig.from_dict({"sources": [source]}, base_dir=tmp_path)
        column = header.split(",").index("category")
        assert ingest_corpus(cfg).documents["label"].to_list() == [["x", "y"][column - 1]]


def test_max_documents_quarantines_what_it_leaves_out(tmp_path: Path) -> None:
    rows = [{"text": f"document number {i}"} for i in range(10)]
    result = ingest_corpus(_jsonl_config(tmp_path, rows, ingest={"max_documents": 3}))
    assert result.documents.height == 3
    left_out = result.quarantine
    assert left_out.height == 7
    assert set(left_out["reason"]) == {
        "over max_documents: not among the first 3 documents by doc_id (ingest.max_documents=3)"
    }
    assert sorted(left_out["doc_id"].to_list()) == left_out["doc_id"].to_list()
    assert min(left_out["doc_id"]) > max(result.documents["doc_id"])
    meta = result.stats.as_metadata()
    assert meta["read"] == meta["accepted"] + meta["quarantined"] == 10
    assert meta["excluded_by_max_documents"] == 7
    assert meta["quarantine_reasons"] == {"over max_documents": 7}
