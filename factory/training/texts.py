"""How corpus rows become student training texts; evaluation scores the same formats.

| task kind        | training text                          | prompt (`format_prompt`) |
| ---------------- | -------------------------------------- | ------------------------ |
| `text`           | the document itself                    | (none)                   |
| `classification` | `"Message: {text}\\nIntent: {label}"`   | `"Message: {text}\\nIntent:"` |
| `qa`             | `"Question: {text}\\nAnswer: {answer}"` | `"Question: {text}\\nAnswer:"` |

Example:
    >>> import polars as pl
    >>> training_texts(pl.DataFrame({"text": ["hi"], "label": ["greet"]}), "classification")
    ['Message: hi\\nIntent: greet']
"""

from __future__ import annotations

import polars as pl

from factory.errors import ConfigError, SchemaError

__all__ = ["TASK_TEMPLATES", "format_prompt", "training_texts"]

TASK_TEMPLATES: dict[str, str] = {
    "text": "{text}",
    "classification": "Message: {text}\nIntent: {label}",
    "qa": "Question: {text}\nAnswer: {answer}",
}
"""Training-text template per task kind; the target field follows the last `": "`."""

_TARGET_FIELD = {"text": None, "classification": "label", "qa": "answer"}


def _check_kind(task_kind: str) -> None:
    if task_kind not in TASK_TEMPLATES:
        msg = (
            f"unknown task kind {task_kind!r}; expected one of {sorted(TASK_TEMPLATES)} "
            "(set `task.kind` in the config)"
        )
        raise ConfigError(msg)


def training_texts(frame: pl.DataFrame, task_kind: str) -> list[str]:
    """One training text per row of `frame`, in row order, in the task kind's format."""
    _check_kind(task_kind)
    target = _TARGET_FIELD[task_kind]
    needed = ["text"] if target is None else ["text", target]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        msg = (
            f"cannot build {task_kind} training texts: columns {missing} are missing (frame has "
            f"{frame.columns}); pass corpus or synthetic rows with {needed}"
        )
        raise SchemaError(msg)
    for name in needed:
        nulls = frame[name].null_count()
        if nulls:
            msg = (
                f"cannot build {task_kind} training texts: {nulls} of {frame.height} rows have a "
                f"null {name!r}; filter them out or fix the source"
            )
            raise SchemaError(msg)
    template = TASK_TEMPLATES[task_kind]
    rows = frame.select(needed).iter_rows(named=True)
    return [template.format(**row) for row in rows]


def format_prompt(task_kind: str, text: str) -> str:
    """The part of a training text before its target, e.g. `"Message: {text}\\nIntent:"`."""
    _check_kind(task_kind)
    if task_kind == "text":
        msg = "task kind 'text' has no prompt/target split; score whole documents by perplexity"
        raise ConfigError(msg)
    template = TASK_TEMPLATES[task_kind]
    return template[: template.rindex(": ") + 1].format(text=text)
