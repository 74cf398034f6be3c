"""What a row's fields may hold: text is a string; a label or answer a string or an integer.

Nothing is turned into a string behind the user's back: a number, list, object or bytes where
text belongs is the reason `wrong type` (naming the field and its type) instead of a document
reading `5` or `['a', 'b']`. Integers are accepted as labels and answers (class ids, numeric
answers) and written in decimal; floats, booleans and the rest are not, since their text form
is ambiguous (`1.0` or `1`, `True` or `true`).

Example:
    >>> text_value({"text": 5}, "text")
    (None, "wrong type: field 'text' is int, expected str")
    >>> task_value({"label": 7}, "label")
    ('7', None)
"""

from __future__ import annotations

from typing import Any

from factory.corpus.normalize import normalize_text

__all__ = ["mapped_fields", "task_value", "text_value"]


def mapped_fields(fields: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """`fields` with the columns in `renames` renamed; a renamed column wins over a column that
    already had the new name, whatever their order in the file."""
    kept = {name: value for name, value in fields.items() if name not in renames}
    return kept | {renames[name]: value for name, value in fields.items() if name in renames}


def _wrong_type(name: str, value: Any, expected: str) -> str:
    return f"wrong type: field {name!r} is {type(value).__name__}, expected {expected}"


def text_value(fields: dict[str, Any], name: str) -> tuple[str | None, str | None]:
    """(the text of field `name`, None), or (None, the reason) when it is absent, null or not
    a string."""
    value = fields.get(name)
    if value is None:
        return None, f"missing field: {name!r} is absent or null"
    if not isinstance(value, str):
        return None, _wrong_type(name, value, "str")
    return value, None


def task_value(fields: dict[str, Any], name: str) -> tuple[str | None, str | None]:
    """(the normalized label or answer in field `name`, or None when absent or blank; None),
    or (None, the reason) when it is neither a string nor an integer."""
    value = fields.get(name)
    if value is None:
        return None, None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, _wrong_type(name, value, "str or int")
    return normalize_text(str(value)) or None, None
