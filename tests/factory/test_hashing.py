from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from factory.errors import FactoryError
from factory.hashing import content_hash, fingerprint, frame_fingerprint


def test_fingerprint_is_order_independent_for_dicts_and_sensitive_to_values() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint(0.1) != fingerprint(0.1000001)


def test_fingerprint_refuses_what_it_cannot_hash() -> None:
    with pytest.raises(FactoryError, match="cannot fingerprint"):
        fingerprint(object())


def test_content_hash_is_sha256_hex() -> None:
    assert content_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_frame_fingerprint_follows_content() -> None:
    vectors = np.eye(2, dtype=np.float32)
    a = pl.DataFrame(
        {"id": ["x", "y"], "v": vectors}, schema={"id": pl.String, "v": pl.Array(pl.Float32, 2)}
    )
    b = a.with_columns(pl.Series("id", ["x", "z"]))
    assert frame_fingerprint(a, ["id", "v"]) == frame_fingerprint(a.clone(), ["id", "v"])
    assert frame_fingerprint(a, ["id", "v"]) != frame_fingerprint(b, ["id", "v"])


def test_frame_fingerprint_reads_list_columns_by_value() -> None:
    frame = pl.DataFrame({"ids": [["a", "b"], []], "step": [[0.5], None]})
    same = pl.DataFrame({"ids": [["a", "b"], []], "step": [[0.5], None]})
    other = pl.DataFrame({"ids": [["a", "c"], []], "step": [[0.5], None]})
    assert frame_fingerprint(frame, ["ids", "step"]) == frame_fingerprint(same, ["ids", "step"])
    assert frame_fingerprint(frame, ["ids"]) != frame_fingerprint(other, ["ids"])
