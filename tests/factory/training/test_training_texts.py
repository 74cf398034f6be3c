"""Training-text formats per task kind."""

from __future__ import annotations

import polars as pl
import pytest

from factory.errors import ConfigError, SchemaError
from factory.training import training_texts
from factory.training.texts import TASK_TEMPLATES, format_prompt


def test_text_kind_is_the_document_itself() -> None:
    frame = pl.DataFrame({"text": ["first doc", "second {braces} doc"], "label": [None, None]})
    assert training_texts(frame, "text") == ["first doc", "second {braces} doc"]


def test_classification_format_in_row_order() -> None:
    frame = pl.DataFrame({"text": ["card lost", "top up?"], "label": ["lost_card", "top_up"]})
    assert training_texts(frame, "classification") == [
        "Message: card lost\nIntent: lost_card",
        "Message: top up?\nIntent: top_up",
    ]


def test_qa_format() -> None:
    frame = pl.DataFrame({"text": ["2+2?"], "answer": ["4"], "label": [None]})
    assert training_texts(frame, "qa") == ["Question: 2+2?\nAnswer: 4"]


@pytest.mark.parametrize("kind", ["classification", "qa"])
def test_prompt_is_a_prefix_of_the_training_text(kind: str) -> None:
    frame = pl.DataFrame({"text": ["why {x}?"], "label": ["L"], "answer": ["A"]})
    (full,) = training_texts(frame, kind)
    prompt = format_prompt(kind, "why {x}?")
    assert full.startswith(prompt)
    assert full[len(prompt) :].strip() in {"L", "A"}


def test_unknown_kind_lists_the_options() -> None:
    with pytest.raises(ConfigError, match=r"unknown task kind 'summarize'.*classification"):
        training_texts(pl.DataFrame({"text": ["a"]}), "summarize")
    assert sorted(TASK_TEMPLATES) == ["classification", "qa", "text"]


def test_missing_target_column_is_named() -> None:
    with pytest.raises(SchemaError, match=r"\['label'\] are missing"):
        training_texts(pl.DataFrame({"text": ["a"]}), "classification")


def test_null_target_is_refused_with_a_count() -> None:
    frame = pl.DataFrame({"text": ["a", "b", "c"], "answer": ["x", None, None]})
    with pytest.raises(SchemaError, match=r"2 of 3 rows have a null 'answer'"):
        training_texts(frame, "qa")


def test_text_kind_has_no_prompt() -> None:
    with pytest.raises(ConfigError, match="no prompt"):
        format_prompt("text", "a")
