"""The Jinja2 environment of the release's documents: the dataset card body, report.md and
report.html.

The templates are files in `lineage/release/templates/` (package data): `card.md.j2`,
`report.md.j2` and `report.html.j2` with their includes (`sources.md.j2`, `making.md.j2`,
`checks.md.j2`, `block.md.j2`, `block.html.j2`). `render` autoescapes the `.html.j2` templates
only; the Markdown templates escape table cells with the `cell` filter instead. Every missing
value is stated plainly by the context (`lineage.release.card`, `lineage.release.sections`),
never left as a blank.

Example:
    >>> render("report.md.j2", context)  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

__all__ = ["TEMPLATE_DIR", "format_value", "render"]

TEMPLATE_DIR = "templates"
"""The folder of `lineage.release` that holds the `*.j2` templates."""

_CODE_SPAN = re.compile(r"`([^`]+)`")
_LONG_TOKEN = re.compile(r"^\S{24,}$")


def _md(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: Any) -> str:
    return _md(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def format_value(value: Any) -> str:
    """A value as the documents show it: thousands separators, 4 significant digits, "yes"/"no",
    and "not measured" for None (never "None" or "nan")."""
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "not measured"
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def _inline(value: Any) -> Any:
    """HTML-escaped text with `code` spans as <code> elements."""
    from markupsafe import Markup, escape

    return Markup(_CODE_SPAN.sub(r"<code>\1</code>", str(escape(value))))


def _cell_class(value: Any, numeric: bool) -> str:
    long_token = isinstance(value, str) and _LONG_TOKEN.match(value) is not None
    flags = {
        "num": numeric,
        "failed": value == "FAILED",
        "passed": value == "passed",
        "hash": long_token,
    }
    classes = [name for name, on in flags.items() if on]
    from markupsafe import Markup

    return Markup(f' class="{" ".join(classes)}"') if classes else ""


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("lineage.release", TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        cell=_cell, cell_class=_cell_class, inline=_inline, md=_md, num=format_value, pct=_pct
    )
    return env


def render(name: str, context: dict[str, Any]) -> str:
    """Render template file `name` (e.g. "report.html.j2") with `context`; autoescaped when the
    name ends in `.html.j2`."""
    return _environment().get_template(name).render(**context)
