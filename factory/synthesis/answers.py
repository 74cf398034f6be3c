"""The shape of a teacher's answer per task kind: a pydantic model, its JSON schema, a parser.

The schema goes to the server as the structured-output format where it supports one; the
parser accepts the JSON object anywhere in the answer (fences and prose around it are fine),
salvages a JSON string cut off by the token limit, and falls back to the tolerant plain-text
parser for servers that answer in prose. Off-schema JSON is a counted reason, never an exception.

Example:
    >>> parse_answer("text", '{"text": "How do I top up by cheque?"}').text
    'How do I top up by cheque?'
    >>> parse_answer("qa", '{"question": "2+2?"}').reason
    'off-schema answer: answer: Field required'
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from factory.synthesis.parsing import Parsed, clean_text, parse_completion

__all__ = ["ANSWER_MODELS", "QAAnswer", "TextAnswer", "answer_schema", "parse_answer"]


class TextAnswer(BaseModel):
    """A text or classification sample: the text only (the label comes from the anchors)."""

    model_config = ConfigDict(extra="ignore")
    text: str = Field(min_length=1)


class QAAnswer(BaseModel):
    """A question with its answer."""

    model_config = ConfigDict(extra="ignore")
    question: str = Field(min_length=1)
    answer: str = Field(min_length=1)


ANSWER_MODELS: dict[str, type[BaseModel]] = {
    "text": TextAnswer,
    "classification": TextAnswer,
    "qa": QAAnswer,
}
"""The answer model of each task kind."""

_PLACEHOLDER = re.compile(r"^\W*(?:\[[^\]]*\]|<[^>]*>|\{[^}]*\})?\W*$")
"""Text with no word outside brackets: "...", "…", "[your message]", "<text>"."""
_CUT_STRING = re.compile(r'"(?P<field>\w+)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)$', re.DOTALL)


def answer_schema(kind: str) -> dict[str, Any]:
    """JSON schema of the answer of task kind `kind`, without titles or descriptions (servers
    turn it into a grammar)."""
    schema = ANSWER_MODELS[kind].model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
    return schema


def _objects(raw: str) -> list[dict[str, Any]]:
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"\{", raw):
        try:
            obj, _ = decoder.raw_decode(raw, match.start())
        except ValueError:
            continue
        if isinstance(obj, dict):
            found.append(obj)
    return found


def _from_model(kind: str, obj: dict[str, Any], truncated: bool) -> Parsed:
    model = ANSWER_MODELS[kind].model_validate({str(k).lower(): v for k, v in obj.items()})
    if isinstance(model, QAAnswer):
        question, answer = clean_text(model.question), " ".join(model.answer.split())
        if not question or not answer:
            return Parsed(None, reason="empty answer")
        if _PLACEHOLDER.match(question) or _PLACEHOLDER.match(answer):
            return Parsed(None, reason="placeholder answer")
        return Parsed(question, answer=answer)
    text = clean_text(getattr(model, "text", ""), truncated)
    if not text:
        return Parsed(None, reason="empty answer")
    if _PLACEHOLDER.match(text):
        return Parsed(None, reason="placeholder answer")
    return Parsed(text)


def _salvage(kind: str, raw: str) -> Parsed | None:
    """A text answer whose JSON string was cut by the token limit: keep its finished sentences."""
    match = _CUT_STRING.search(raw)
    if kind == "qa" or match is None or match.group("field").lower() != "text":
        return None
    try:
        value = json.loads(f'"{match.group("value").rstrip(chr(92))}"')
    except ValueError:
        return None
    text = clean_text(value, truncated=True)
    return Parsed(text) if text else None


def parse_answer(kind: str, raw: str, truncated: bool = False) -> Parsed:
    """Parse a raw answer for task kind `kind`; `truncated`: the token limit cut it."""
    objects = _objects(raw)
    problem = None
    for obj in objects:
        try:
            return _from_model(kind, obj, truncated)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            problem = problem or f"off-schema answer: {where}: {first['msg']}"
    if problem is not None:
        return Parsed(None, reason=problem)
    salvaged = _salvage(kind, raw) if truncated or raw.lstrip().startswith("{") else None
    if salvaged is not None:
        return salvaged
    if raw.lstrip().startswith("{"):
        return Parsed(None, reason="unparseable answer: JSON cut off or malformed")
    return parse_completion(kind, raw, truncated)
