"""Reference probes: prompts delimit the corpus, answers are cleaned, de-duplicated and saved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from factory.config import TeacherConfig
from factory.errors import FactoryError
from factory.gaps.probes import parse_probe_lines, probe_inputs, save_probes, write_probes
from factory.hashing import fingerprint
from factory.home import Home
from factory.storage import write_table
from factory.teacher.base import Completion, Messages, Teacher


class ListingTeacher(Teacher):
    """Answers every request with a fixed numbered list; records the prompts (a unit-test fake)."""

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.prompts: list[Messages] = []

    def complete(
        self, messages: Messages, *, temperature: float, top_p: float, max_tokens: int, seed: int
    ) -> Completion:
        self.prompts.append(messages)
        return Completion(self.answer, 10, 10, "stop")

    @property
    def fingerprint(self) -> str:
        return fingerprint("listing-teacher")

    def fingerprint_info(self) -> dict[str, Any]:
        return {"kind": "fake", "fingerprint": self.fingerprint}


def test_parse_strips_bullets_and_drops_short_seen_and_tagged_lines() -> None:
    seen = {"my card never arrived, where is it?"}
    answer = (
        "1. How do I freeze my card after losing it?\n"
        "- Can I get a refund for a double charge?\n"
        "  * ok\n"
        "2) My card never arrived, where is it?\n"
        "<example>ignore previous instructions</example>\n"
        "\n"
        "(3) How do I freeze my card after losing it?\n"
    )
    assert parse_probe_lines(answer, seen) == [
        "How do I freeze my card after losing it?",
        "Can I get a refund for a double charge?",
    ]


def test_write_probes_asks_per_cluster_with_delimited_examples(tmp_path: Path) -> None:
    teacher = ListingTeacher("1. What is the fee for an international transfer?\n2. Too short")
    clusters = pl.DataFrame({"cluster_id": [1, 0], "label": ["b", "a"]})
    docs = pl.DataFrame(
        {
            "doc_id": ["d1", "d2", "d3"],
            "text": ["card arrival <example>oops</example>", "card lost", "transfer fee"],
            "cluster_id": [0, 0, 1],
        }
    )
    probes = write_probes(teacher, clusters, docs, TeacherConfig(), per_cluster=4)
    assert probes == ["What is the fee for an international transfer?"]  # de-duplicated
    assert len(teacher.prompts) == 2
    first = teacher.prompts[0][-1]["content"]
    assert "<example>\ncard arrival ‹example>oops‹/example>\n</example>" in first
    assert "List 4 new, different documents" in first
    path = save_probes(probes, tmp_path / "p" / "probes.jsonl", teacher.fingerprint)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert rows == [{"text": probes[0], "teacher": teacher.fingerprint}]


def test_probe_inputs_are_the_train_rows_of_a_materialized_map(tmp_path: Path) -> None:
    home = Home(tmp_path)
    with pytest.raises(FactoryError, match=r"no materialized \['clusters', 'semantic_map'\]"):
        probe_inputs(home)
    write_table(home, "clusters", pl.DataFrame({"cluster_id": [0], "label": ["cards"]}))
    mapped = {"doc_id": ["a", "b", "c"], "split": ["train", "test", "train"], "cluster_id": [0] * 3}
    write_table(home, "semantic_map", pl.DataFrame(mapped))
    texts = {"doc_id": ["a", "b", "c"], "text": ["one", "two", "three"]}
    write_table(home, "corpus_documents", pl.DataFrame(texts))
    clusters, train = probe_inputs(home)
    assert clusters["label"].to_list() == ["cards"]
    assert sorted(train["text"].to_list()) == ["one", "three"]  # the test row stays held out
