"""The hash-chained ledger: links, tamper detection, concurrent appends, refusals."""

from __future__ import annotations

import itertools
import json
import multiprocessing
from datetime import datetime
from pathlib import Path

import pytest

from lineage import Ledger, LineageError, SecretInLineageError, record_hash
from lineage.ledger import GENESIS_HASH


def _filled(tmp_path: Path, n: int = 5) -> Ledger:
    ledger = Ledger(tmp_path / "prov" / "ledger.jsonl")
    for i in range(n):
        ledger.append("materialization", {"asset": f"a{i}", "rows": i * 10, "score": i / 3})
    return ledger


def _lines(ledger: Ledger) -> list[str]:
    return ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_chain_links_every_record(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    records = ledger.records()
    assert [r["seq"] for r in records] == [1, 2, 3, 4, 5]
    assert records[0]["prev_hash"] == GENESIS_HASH
    for prev, rec in itertools.pairwise(records):
        assert rec["prev_hash"] == prev["hash"]
    for rec in records:
        assert rec["hash"] == record_hash(rec)
        assert rec["format_version"] == 1
        assert datetime.fromisoformat(rec["recorded_at"]).utcoffset().total_seconds() == 0
    assert records[2]["body"] == {"asset": "a2", "rows": 20, "score": 2 / 3}
    result = ledger.verify()
    assert result.ok, result.problems
    assert result.records == 5


def test_records_filter_by_kind(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 2)
    ledger.append("publication", {"repo": "org/data"})
    assert [r["seq"] for r in ledger.records("publication")] == [3]
    assert len(ledger.records()) == 3


def test_verify_names_an_edited_record(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    rec = json.loads(lines[2])
    rec["body"]["rows"] = 999
    lines[2] = json.dumps(rec) + "\n"
    ledger.path.write_text("".join(lines), encoding="utf-8")
    result = ledger.verify()
    assert not result.ok
    assert any("seq 3" in p and "edited" in p for p in result.problems), result.problems


def test_verify_names_a_rehashed_edit_by_the_broken_link(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    rec = json.loads(lines[2])
    rec["body"]["rows"] = 999
    rec["hash"] = record_hash(rec)  # a forger recomputes the edited record's own hash
    lines[2] = json.dumps(rec) + "\n"
    ledger.path.write_text("".join(lines), encoding="utf-8")
    problems = ledger.verify().problems
    assert any(p.startswith("seq 4: prev_hash") and "seq 3" in p for p in problems), problems


def test_verify_names_a_deleted_line(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    lines = _lines(ledger)
    del lines[2]
    ledger.path.write_text("".join(lines), encoding="utf-8")
    result = ledger.verify()
    assert not result.ok
    assert any("seq 3 missing" in p for p in result.problems), result.problems
    assert result.records == 4


def test_verify_notices_records_cut_from_the_end(tmp_path: Path) -> None:
    ledger = _filled(tmp_path)
    ledger.path.write_text("".join(_lines(ledger)[:3]), encoding="utf-8")
    problems = ledger.verify().problems
    assert any("seq 4-5 missing at the end" in p for p in problems), problems


def test_torn_last_line_blocks_appends(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 2)
    with ledger.path.open("a", encoding="utf-8") as fh:
        fh.write('{"seq": 3, "kind": "mat')
    with pytest.raises(LineageError, match="incomplete"):
        ledger.append("materialization", {"asset": "x"})
    assert not ledger.verify().ok


def _append_many(path: str, worker: int, count: int, barrier: object) -> None:
    ledger = Ledger(Path(path))
    barrier.wait()  # type: ignore[attr-defined]  # all writers start together
    for i in range(count):
        ledger.append("materialization", {"worker": worker, "i": i})


def test_concurrent_appends_keep_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_append_many, args=(str(path), w, 25, barrier)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    ledger = Ledger(path)
    result = ledger.verify()
    assert result.ok, result.problems
    records = ledger.records()
    assert [r["seq"] for r in records] == list(range(1, 101))
    pairs = [(r["body"]["worker"], r["body"]["i"]) for r in records]
    assert sorted(pairs) == [(w, i) for w in range(4) for i in range(25)]
    for w in range(4):
        assert [i for ww, i in pairs if ww == w] == list(range(25))


@pytest.mark.parametrize(
    "body",
    [
        {"teacher": {"hf_token": "abc123"}},
        {"endpoint": {"apiKey": "abc123"}},
        {"db": [{"password": "hunter2"}]},
        {"client_secret": "xyz"},
        {"aws_secret_access_key": "xyz"},
        {"note": "retry with hf_" + "a1B2" * 9},
        {"headers": ["Bearer eyJhbGciOiJIUzI1NiJ9abcdef"]},
    ],
)
def test_secret_like_bodies_are_refused(tmp_path: Path, body: dict[str, object]) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    with pytest.raises(SecretInLineageError, match="secrets never enter lineage") as info:
        ledger.append("run", body)
    assert "abc123" not in str(info.value)
    assert "hunter2" not in str(info.value)
    assert ledger.records() == []


def test_harmless_keys_that_mention_tokens_are_kept(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    body = {"max_tokens": 80, "api_key_env": "OPENAI_API_KEY", "pad_token": "<|endoftext|>"}
    assert ledger.append("run", body)["body"] == body


@pytest.mark.parametrize(
    ("body", "fix"),
    [
        ({"path": Path("/x")}, "str()"),
        ({"score": float("nan")}, "null"),
        ({1: "a"}, "string keys"),
    ],
)
def test_non_json_bodies_are_refused(tmp_path: Path, body: dict[object, object], fix: str) -> None:
    with pytest.raises(LineageError, match=fix.replace("(", r"\(").replace(")", r"\)")):
        Ledger(tmp_path / "ledger.jsonl").append("run", body)  # type: ignore[arg-type]
