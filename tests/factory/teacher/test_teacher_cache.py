"""The response cache and the token budget."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from factory.errors import FactoryError
from factory.teacher import Completion
from factory.teacher.budget import Prices, TokenBudget, estimate_tokens
from factory.teacher.cache import ResponseCache, cache_key

MSGS = [{"role": "user", "content": "Hi"}]


def stored_keys(path: Path) -> set[str]:
    """Every key in the cache file, read with SQLite itself."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        return {row[0] for row in db.execute("SELECT key FROM responses")}


def test_answers_survive_a_reopen_and_the_first_answer_wins(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cache.sqlite"
    key = cache_key("fp", MSGS, {"temperature": 0.8}, 7)
    first = Completion("hello", 3, 1, "stop", "fp-server")
    with ResponseCache(path) as cache:
        assert cache.get(key) is None
        cache.put(key, "fp", first)
        cache.put(key, "fp", Completion("other", 3, 1, "stop"))
        cache.set_fact("response_format:fp", "json_object")
    with ResponseCache(path) as cache:
        assert cache.get(key) == first
        assert len(cache) == 1
        assert stored_keys(path) == {key}
        assert cache.contains([key, "missing"]) == {key}
        assert cache.fact("response_format:fp") == "json_object"
        assert cache.fact("unknown") is None


def test_keys_change_with_every_part_of_the_request() -> None:
    base = cache_key("fp", MSGS, {"temperature": 0.8}, 7)
    assert base == cache_key("fp", list(MSGS), {"temperature": 0.8}, 7)
    assert base != cache_key("fp2", MSGS, {"temperature": 0.8}, 7)
    assert base != cache_key("fp", [{"role": "user", "content": "Hi!"}], {"temperature": 0.8}, 7)
    assert base != cache_key("fp", MSGS, {"temperature": 0.9}, 7)
    assert base != cache_key("fp", MSGS, {"temperature": 0.8}, 8)


def test_a_corrupt_cache_file_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(FactoryError, match=r"move the file aside .* synthesis\.cache: false"):
        ResponseCache(path)


def test_budget_reserves_settles_and_refuses() -> None:
    budget = TokenBudget(max_tokens=100)
    assert budget.reserve(60)
    assert not budget.reserve(50)  # 60 held + 50 > 100
    budget.settle(60, prompt_tokens=20, completion_tokens=10)
    assert budget.spent_tokens == 30
    assert budget.reserve(70)
    budget.release(70)
    assert budget.reserved == 0
    assert budget.exhausted
    assert budget.describe() == "30 of 100 tokens"


def test_cost_cap_uses_the_dearer_price_for_the_worst_case() -> None:
    budget = TokenBudget(max_cost=1.0, prices=Prices(1e6, 2e6))  # 1 and 2 per token
    assert not budget.reserve(1)  # worst case 2 > 1
    cheap = TokenBudget(max_cost=10.0, prices=Prices(1e6, 2e6))
    assert cheap.reserve(4)
    cheap.settle(4, prompt_tokens=2, completion_tokens=1)
    assert cheap.cost == pytest.approx(4.0)
    assert "cost 4.0000 of 10.0000" in cheap.describe()
    assert estimate_tokens("abcdef") == 3
