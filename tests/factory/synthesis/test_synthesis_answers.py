"""Answer schemas and the tolerant structured parser."""

from __future__ import annotations

import pytest

from factory.synthesis.answers import answer_schema, parse_answer


def test_schemas_come_from_the_pydantic_models() -> None:
    assert answer_schema("text") == {
        "properties": {"text": {"minLength": 1, "type": "string"}},
        "required": ["text"],
        "type": "object",
    }
    assert answer_schema("classification") == answer_schema("text")
    assert answer_schema("qa")["required"] == ["question", "answer"]


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ('{"text": "Where is my card?"}', "Where is my card?"),
        ('Sure! ```json\n{"TEXT": "Where is my card?", "label": "x"}\n```', "Where is my card?"),
        ('{"text": "Here is a new message: \\"Where is my card?\\""}', "Where is my card?"),
        ("Here is a new message:\n\nWhere is my card?", "Where is my card?"),
    ],
)
def test_json_anywhere_or_prose_is_parsed(raw: str, text: str) -> None:
    assert parse_answer("text", raw).text == text


def test_a_json_string_cut_by_the_token_limit_keeps_its_finished_sentences() -> None:
    raw = '{"text": "My card never came. I ordered it two weeks ago and still'
    assert parse_answer("text", raw, truncated=True).text == "My card never came."


@pytest.mark.parametrize(
    ("kind", "raw", "reason"),
    [
        ("qa", '{"question": "2+2?"}', "off-schema answer: answer: Field required"),
        (
            "text",
            '{"text": ""}',
            "off-schema answer: text: String should have at least 1 character",
        ),
        ("text", '{"text": 3}', "off-schema answer: text: Input should be a valid string"),
        ("text", '{"tex', "unparseable answer: JSON cut off or malformed"),
        ("text", "   ", "empty answer"),
        ("text", '{"text": "..."}', "placeholder answer"),
        ("text", '{"text": "[your message]"}', "placeholder answer"),
        ("qa", '{"question": "…", "answer": "4"}', "placeholder answer"),
    ],
)
def test_off_schema_and_broken_answers_are_reasons(kind: str, raw: str, reason: str) -> None:
    parsed = parse_answer(kind, raw)
    assert not parsed.ok
    assert parsed.reason == reason


def test_qa_pairs_are_cleaned() -> None:
    parsed = parse_answer("qa", '{"question": " Where is  my card? ", "answer": "In the post."}')
    assert (parsed.text, parsed.answer) == ("Where is my card?", "In the post.")
