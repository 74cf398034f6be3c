"""The hash-chained ledger: links, tamper detection, concurrent appends, refusals."""

from __future__ import annotations

import hashlib
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


@pytest.mark.parametrize("text", ["\x85", "a\u2028b", "\u2029", "\x1c", "\x0b"])
def test_unicode_line_separators_in_a_body_are_no_line_ends(tmp_path: Path, text: str) -> None:
    """JSON leaves them unescaped; only b"\\n" ends a record."""
    ledger = Ledger(tmp_path / "ledger.jsonl")
    ledger.append("run", {"note": text})
    ledger.append("run", {"note": "next"})
    assert ledger.verify().ok, ledger.verify().problems
    assert [r["body"]["note"] for r in ledger.records()] == [text, "next"]


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


def _tear(ledger: Ledger, tail: bytes = b'{"seq": 3, "kind": "mat') -> None:
    """A crash while appending: part of a line, no newline, the head left behind."""
    with ledger.path.open("ab") as fh:
        fh.write(tail)


def test_a_torn_last_line_is_an_incomplete_write_not_tampering(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 2)
    _tear(ledger)
    with pytest.raises(LineageError, match=r"incomplete.*factory lineage repair"):
        ledger.append("materialization", {"asset": "x"})
    result = ledger.verify()
    assert not result.ok
    assert result.problems == []
    assert result.incomplete is not None
    assert "incomplete write" in result.incomplete
    assert "factory lineage repair" in result.incomplete
    assert [r["seq"] for r in ledger.records()] == [1, 2]  # the torn line never was a record


def test_repair_cuts_the_torn_line_records_the_repair_and_appends_resume(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 2)
    torn = b'{"seq": 3, "kind": "mat'
    _tear(ledger, torn)
    record = ledger.repair()
    assert record is not None
    assert record["kind"] == "repair"
    assert record["seq"] == 3
    body = record["body"]
    assert body["after_seq"] == 2
    assert body["removed_bytes"] == len(torn)
    assert body["removed_sha256"] == hashlib.sha256(torn).hexdigest()
    assert (ledger.path.parent / body["saved_to"]).read_bytes() == torn
    assert ledger.verify().ok
    assert ledger.append("materialization", {"asset": "x"})["seq"] == 4
    assert ledger.verify().ok
    assert ledger.repair() is None  # nothing left to repair


def test_a_torn_first_line_is_repaired_too(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    _tear(ledger, b'{"format_version": 1, "seq": 1, "prev')
    assert ledger.verify().incomplete is not None
    assert ledger.repair()["seq"] == 1  # type: ignore[index]
    assert ledger.verify().ok


def test_repair_refuses_a_ledger_with_other_damage(tmp_path: Path) -> None:
    ledger = _filled(tmp_path, 3)
    lines = _lines(ledger)
    rec = json.loads(lines[1])
    rec["body"]["rows"] = 999
    lines[1] = json.dumps(rec) + "\n"
    ledger.path.write_text("".join(lines) + '{"seq": 4', encoding="utf-8")
    before = ledger.path.read_bytes()
    with pytest.raises(LineageError, match=r"cannot repair.*seq 2.*edited"):
        ledger.repair()
    assert ledger.path.read_bytes() == before


def test_a_torn_line_the_head_already_counted_is_tampering(tmp_path: Path) -> None:
    """A crash leaves the head behind the torn line; a head that counts it means a whole record
    was cut short afterwards."""
    ledger = _filled(tmp_path, 3)
    raw = ledger.path.read_bytes()
    ledger.path.write_bytes(raw[:-20])  # seq 3 cut short, the head still names it
    result = ledger.verify()
    assert any("seq 3" in p and "missing at the end" in p for p in result.problems), result
    with pytest.raises(LineageError, match="cannot repair"):
        ledger.repair()


def _verify_while_appending(path: str, started: object, done: object, out: object) -> None:
    ledger = Ledger(Path(path))
    bad, count = [], 0
    started.wait()  # type: ignore[attr-defined]
    while not done.is_set() or count < 50:  # type: ignore[attr-defined]
        result = ledger.verify()
        count += 1
        if not result.ok:
            bad.append(result.problems)
        try:
            ledger.records()
        except LineageError as exc:
            bad.append([str(exc)])
    out.put((count, bad[:3], len(bad)))  # type: ignore[attr-defined]


def test_verify_during_concurrent_appends_never_reports_tampering(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    Ledger(path).append("run", {"i": -1})
    ctx = multiprocessing.get_context("spawn")
    barrier, started, done, results = ctx.Barrier(2), ctx.Event(), ctx.Event(), ctx.Queue()
    writers = [
        ctx.Process(target=_append_many, args=(str(path), w, 100, barrier)) for w in range(2)
    ]
    readers = [
        ctx.Process(target=_verify_while_appending, args=(str(path), started, done, results))
        for _ in range(2)
    ]
    for p in [*readers, *writers]:
        p.start()
    started.set()
    for p in writers:
        p.join(timeout=120)
    done.set()
    found = [results.get(timeout=60) for _ in readers]
    for p in readers:
        p.join(timeout=120)
    assert [p.exitcode for p in [*readers, *writers]] == [0] * 4
    assert all(count >= 50 for count, _, _ in found), found
    assert [(examples, n) for _, examples, n in found] == [([], 0), ([], 0)]
    assert Ledger(path).verify().ok


def test_head_names_the_last_record(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.jsonl")
    assert ledger.head() == (0, GENESIS_HASH)
    last = _filled(tmp_path, 3).append("run", {"x": 1})
    assert Ledger(tmp_path / "prov" / "ledger.jsonl").head() == (4, last["hash"])


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
