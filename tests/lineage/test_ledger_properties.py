"""Properties of the ledger under random damage (Hypothesis): byte flips, truncations, removed,
inserted and torn lines. Verify fails exactly when a byte changed; a torn last line is an
incomplete write that `repair` fixes; nothing raises but a `LineageError` with a message."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lineage import Ledger, LineageError

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
KEYS = st.sampled_from(["asset", "rows", "note", "score", "round"])
VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=8),
    st.sampled_from(["\x85", "a\u2028b", "\u2029", "\r\n", "\x1c"]),  # not line ends in JSONL
    st.booleans(),
    st.none(),
)
BODIES = st.lists(st.dictionaries(KEYS, VALUES, max_size=3), min_size=1, max_size=5)
POSITION = st.integers(min_value=0, max_value=10**6)
DAMAGE = st.one_of(
    st.tuples(st.just("flip"), POSITION, st.integers(0, 7)),
    st.tuples(st.just("truncate"), POSITION),
    st.tuples(st.just("drop_line"), POSITION),
    st.tuples(st.just("swap_lines"), POSITION),
    st.tuples(st.just("insert"), POSITION, st.binary(min_size=1, max_size=6)),
)


def _ledger(folder: Path, bodies: list[dict[str, Any]]) -> Ledger:
    ledger = Ledger(folder / "ledger.jsonl")
    for body in bodies:
        ledger.append("materialization", body)
    return ledger


def _damaged(raw: bytes, damage: tuple[Any, ...]) -> bytes:
    kind, at = damage[0], damage[1] % max(len(raw), 1)
    lines = raw.splitlines(keepends=True)
    if kind == "flip":
        return raw[:at] + bytes([raw[at] ^ (1 << damage[2])]) + raw[at + 1 :]
    if kind == "truncate":
        return raw[:at]
    if kind == "drop_line":
        return b"".join(lines[: at % len(lines)] + lines[at % len(lines) + 1 :])
    if kind == "swap_lines":
        i = at % len(lines)
        j = (i + 1) % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return b"".join(lines)
    return raw[:at] + damage[2] + raw[at:]


def _never_crashes(ledger: Ledger) -> None:
    """`records` and `repair` either answer or raise a `LineageError` that says something."""
    for call in (ledger.records, ledger.repair):
        message = "answered"
        try:
            call()
        except LineageError as exc:
            message = str(exc).strip()
        assert message


@SETTINGS
@given(bodies=BODIES, damage=DAMAGE)
def test_verify_fails_exactly_when_a_byte_changed(
    bodies: list[dict[str, Any]], damage: tuple[Any, ...]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = _ledger(Path(tmp), bodies)
        assert ledger.verify().ok
        raw = ledger.path.read_bytes()
        changed = _damaged(raw, damage)
        ledger.path.write_bytes(changed)
        result = ledger.verify()
        assert result.ok is (changed == raw), (damage, result)
        if changed != raw:
            assert result.problems or result.incomplete
        _never_crashes(ledger)
        if ledger.verify().ok:  # only a cut torn tail is repaired: every record is kept
            assert ledger.path.read_bytes().startswith(raw)


@SETTINGS
@given(bodies=BODIES, cut=st.integers(min_value=1, max_value=400))
def test_a_torn_last_line_is_an_incomplete_write_that_repair_fixes(
    bodies: list[dict[str, Any]], cut: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ledger = _ledger(folder, bodies)
        raw = ledger.path.read_bytes()
        spare = _ledger(folder / "spare", [*bodies, {"asset": "next"}]).path.read_bytes()
        torn = spare.splitlines()[-1][:cut]  # what a crash mid-append leaves of the next line
        ledger.path.write_bytes(raw + torn)
        result = ledger.verify()
        assert result.problems == []
        assert result.incomplete is not None
        assert "incomplete write" in result.incomplete
        assert [r["seq"] for r in ledger.records()] == list(range(1, len(bodies) + 1))
        repair = ledger.repair()
        assert repair is not None
        assert repair["body"]["removed_bytes"] == len(torn)
        assert ledger.verify().ok
        assert ledger.path.read_bytes().startswith(raw)
