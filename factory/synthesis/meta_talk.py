"""Teacher talk about the task instead of the task: a candidate that describes itself.

A small teacher often answers a request for data with words about the request: "Here's another
passage that covers the same domain in a different way", "This is an example of a new passage
that I can use to answer your question", "[Your Name]", "I hope this helps". Such a row is not a
sample of the domain, whatever its embedding says. `meta_talk` names the first pattern a text
matches, or None.

Each pattern needs the words of the exchange itself (the passage/message/example being written,
the requester, the examples shown, a template placeholder), so ordinary domain text that happens
to say "for example" or "this message" does not match: on real corpus rows (banking77 train and
the Python standard library's docstrings) the false-positive rate is measured by
`tests/factory/synthesis/test_meta_talk.py` and kept under 1%.

Example:
    >>> meta_talk("Here's another passage that covers the same domain in a different way.")
    'talks about writing a new sample'
    >>> meta_talk("How do I freeze my card while I am abroad?") is None
    True
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["META_TALK_PATTERNS", "meta_talk"]

_ARTIFACT = r"(?:passage|message|sample|example|question|text|sentence|response|answer)s?"
_NEWNESS = r"(?:another|new|rewritten|revised|similar|different|sample|possible)"
META_TALK_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "talks about writing a new sample",
        re.compile(
            rf"\b(?:here(?:'s| is| are)|below is|this is|these are)\s+(?:(?:a|an|the|my|some|"
            rf"your)\s+)?{_NEWNESS}\s+(?:\w+\s+)?{_ARTIFACT}\b",
            re.IGNORECASE,
        ),
    ),
    (
        "refers to the examples it was shown",
        re.compile(
            r"\b(?:the|these|those|your|given|provided|original)\s+(?:example|examples|"
            r"example data)\s+(?:given|provided|you (?:gave|provided|showed)|collection|shown "
            r"(?:to me|in the prompt))\b|\boriginal example\b|\bexamples collection\b|"
            r"\bsame (?:domain|label|style|topic) (?:as the|in a different)|\bin the style of\s*:|"
            r"\b(?:a|another) (?:different|new|other) way (?:to|of) (?:say|express|put|phrase|"
            r"writ)|\bexpress(?:es|ed)? the same (?:idea|meaning)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "addresses the requester",
        re.compile(
            r"\b(?:your question|your use case|as you requested|you asked for|hope (?:this|it) "
            r"helps|let me know if you (?:need|want|would like)|is ready!|please provide more "
            r"examples|(?:that|this) is a (?:valid|good|great) question)|^\s*(?:sure|certainly|"
            r"of course|absolutely)\b[,!.:]",
            re.IGNORECASE,
        ),
    ),
    (
        "speaks as the model",
        re.compile(
            r"\b(?:as an ai|as a language model|i(?:'m| am) (?:an ai|a language model|just an ai)|"
            r"i (?:can(?:not|'t)|will not|won't) (?:help|provide|write|create))\b|\bi(?:'ll| will"
            rf"| can| have|'ve) (?:try to |now )?(?:write|wrote|written|create|created|generate|"
            rf"generated|provide|provided)\b[^.]*\b{_ARTIFACT}\b",
            re.IGNORECASE,
        ),
    ),
    (
        "leaves a template placeholder",
        re.compile(
            r"(?<![\w.\])\[])\[(?![A-Z0-9_\s]+\])(?:(?i:your|my|insert|enter)\s+[^\]]{1,30}|"
            r"(?i:name|username|address|company|email|item description|description|"
            r"example\s*\d*|placeholder|topic))\]|\{(?i:your|insert)\s[^}]{1,30}\}"
        ),
    ),
    (
        "numbers itself as an example",
        re.compile(r"^\W{0,4}(?:\d+[.)]\s*)?\[?\**\s*(?:example|sample)\s*\d+\s*[:\]*]", re.I),
    ),
)
"""(what it says, pattern), in the order they are tried."""


def meta_talk(text: str | None) -> str | None:
    """What `text` says about the task instead of doing it, or None when it does not."""
    if not text:
        return None
    normalized = unicodedata.normalize("NFKC", text).replace("’", "'")
    for name, pattern in META_TALK_PATTERNS:
        if pattern.search(normalized):
            return name
    return None
