"""Turn a teacher's raw answer into a sample, or into a reason why not; never raises.

Example:
    >>> parse_completion("text", 'Here is a new passage:\\n\\n"The cat sat."').text
    'The cat sat.'
    >>> parse_completion("qa", "no json here").reason
    'unparseable answer: no JSON object with "question" and "answer"'
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Parsed", "clean_text", "parse_completion", "parse_qa"]

_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.MULTILINE)
_TAGS = re.compile(r"</?\s*(?:example|label)\s*>", re.IGNORECASE)
_PARAGRAPHS = re.compile(r"\n\s*\n")
_LEAD_WORDS = r"(?:sure|okay|ok|certainly|of course|absolutely|great|alright)"
_PREAMBLE = re.compile(
    rf"^\s*(?:{_LEAD_WORDS}[\s,!.]*)?(?:here(?:'s|’s| is| are)|below is)\b[^:\n]{{0,100}}:\s*",
    re.IGNORECASE,
)
_PREFIX = re.compile(
    r"^\s*(?:the\s+|a\s+|my\s+|one\s+)?(?:new\s+)?(?:customer\s+)?"
    r"(?:message|passage|text|sample|example|output|response|answer|question)"
    r"(?:\s*\d+)?\s*:\s*",
    re.IGNORECASE,
)
_ANNOUNCE = re.compile(
    rf"^\s*(?:{_LEAD_WORDS}[\s,!.]*)?(?:here(?:'s|’s| is| are)|below is)\b", re.IGNORECASE
)
_BLOCK = re.compile(r"<\s*example\s*>(.*?)(?:<\s*/\s*example\s*>|$)", re.IGNORECASE | re.DOTALL)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s|$)")
_TAG_PREFIXES = "|".join(w[:i] for w in ("example", "label") for i in range(1, len(w) + 1))
_TAG_FRAGMENT = re.compile(rf"\s*(?:</\s*[A-Za-z]*|<\s*(?:{_TAG_PREFIXES})?)\s*$", re.IGNORECASE)
_LEAD_ONLY = re.compile(rf"^\s*{_LEAD_WORDS}[\s,!.]*$", re.IGNORECASE)
_NO_QA = 'unparseable answer: no JSON object with "question" and "answer"'
_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»", "`": "`"}
_QA_LINES = re.compile(
    r"(?:^|\n)\s*(?:q|question)\s*[:.)-]\s*(?P<q>.+?)\s*\n\s*(?:a|answer)\s*[:.)-]\s*(?P<a>.+)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True)
class Parsed:
    """A parsed answer: `text` (and `answer` for qa), or `reason` when it is rejected."""

    text: str | None
    answer: str | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the answer yielded a sample."""
        return self.reason is None


def _strip_quotes(text: str) -> str:
    while len(text) >= 2 and _QUOTES.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def _is_preamble(paragraph: str, more_follows: bool) -> bool:
    """A paragraph or line that only announces the answer ("Here is a new message:", "Sure!")."""
    line = paragraph.strip()
    if _LEAD_ONLY.match(line):
        return True
    if "\n" in line or not more_follows:
        return False
    if line.endswith(":") and len(line) <= 160:
        return True
    has_content_after_colon = ":" in line and not line.endswith(":")
    return len(line) <= 200 and not has_content_after_colon and bool(_ANNOUNCE.match(line))


def _drop_preambles(parts: list[str]) -> list[str]:
    while parts and _is_preamble(parts[0], more_follows=len(parts) > 1):
        parts = parts[1:]
    return parts


def _trim_cut_sentence(text: str) -> str:
    """Drop a trailing unfinished sentence when a finished one ends past a third of the text."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    if ends and ends[-1] < len(text) and ends[-1] >= len(text) // 3:
        return text[: ends[-1]]
    return text


def clean_text(raw: str, truncated: bool = False) -> str:
    """First real paragraph of `raw`, without preambles, labels, tags, fences or quotes.

    When the answer wraps its text in the prompt's own `<example>` tags, the first tagged block
    is the answer. When the answer was cut by the token limit (`truncated`) inside that
    paragraph, its unfinished last sentence is dropped.
    """
    text = _FENCE.sub("", raw.replace("\r\n", "\n"))
    block = _BLOCK.search(text)
    text = _TAGS.sub("", block.group(1) if block and block.group(1).strip() else text)
    paragraphs = _drop_preambles([p for p in _PARAGRAPHS.split(text) if p.strip()])
    if not paragraphs:
        return ""
    first = "\n".join(_drop_preambles(paragraphs[0].strip().split("\n")))
    for pattern in (_PREAMBLE, _PREFIX):
        first = pattern.sub("", first, count=1)
    first = _strip_quotes(first.strip())
    first = _PREFIX.sub("", first, count=1)
    first = " ".join(_strip_quotes(_TAG_FRAGMENT.sub("", first)).split())
    return _trim_cut_sentence(first) if truncated and len(paragraphs) == 1 else first


def _qa_from_obj(obj: Any) -> tuple[str, str] | None:
    if not isinstance(obj, dict):
        return None
    lower = {str(k).strip().lower(): v for k, v in obj.items()}
    q, a = lower.get("question"), lower.get("answer")
    if not isinstance(q, str) or isinstance(a, (dict, list)) or a is None:
        return None
    return q, str(a)


def _json_objects(text: str) -> list[Any]:
    decoder = json.JSONDecoder()
    found: list[Any] = []
    for match in re.finditer(r"\{", text):
        for candidate in (text, re.sub(r",\s*([}\]])", r"\1", text)):
            try:
                obj, _ = decoder.raw_decode(candidate, match.start())
            except ValueError:
                continue
            found.append(obj)
            break
    return found


def parse_qa(raw: str) -> Parsed:
    """The first JSON object with "question" and "answer" (fences, prose, trailing commas ok)."""
    text = _TAGS.sub("", _FENCE.sub("", raw))
    pair = next((p for p in map(_qa_from_obj, _json_objects(text)) if p is not None), None)
    if pair is None and (match := _QA_LINES.search(text)):
        pair = (match.group("q"), _PARAGRAPHS.split(match.group("a"))[0])
    if pair is None:
        return Parsed(
            None, reason='unparseable answer: no JSON object with "question" and "answer"'
        )
    question = " ".join(_strip_quotes(pair[0].strip()).split())
    answer = " ".join(_strip_quotes(pair[1].strip()).split())
    if not question:
        return Parsed(None, reason="empty question")
    if not answer:
        return Parsed(None, reason="empty answer")
    return Parsed(question, answer=answer)


def parse_completion(kind: str, raw: str, truncated: bool = False) -> Parsed:
    """Parse a raw answer for task kind `kind` (text, classification, qa); `truncated`: cut by
    the token limit."""
    if kind == "qa":
        return parse_qa(raw)
    text = clean_text(raw, truncated)
    if not text:
        return Parsed(None, reason="empty answer")
    return Parsed(text)
