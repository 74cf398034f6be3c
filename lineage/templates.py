"""Jinja2 templates of the release: the dataset card body, report.md and report.html.

Kept in Python so they ship inside the wheel. `render` autoescapes the `.html` template only; the
Markdown templates escape table cells with the `cell` filter instead. Every missing value is
stated plainly by the context (`lineage.release`), never left as a blank.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["TEMPLATES", "format_value", "render"]

_CARD_MD = """\
# {{ card.pretty_name }}

## Dataset summary

{{ summary | md }}
{% if card.description %}
{{ card.description | md }}
{% endif %}

## Uses

{% if card.intended_uses %}Intended uses:
{% for use in card.intended_uses %}
- {{ use | md }}
{% endfor %}{% else %}The publisher stated no intended uses.
{% endif %}

{% if card.out_of_scope_uses %}Out-of-scope uses:
{% for use in card.out_of_scope_uses %}
- {{ use | md }}
{% endfor %}{% else %}The publisher stated no out-of-scope uses.
{% endif %}

## Dataset structure

{% for t in tables %}
### `{{ t.name }}` ({{ t.rows | num }} rows, {{ "synthetic" if t.synthetic else "real" }})

Config `{{ t.name }}`, split `train`, file `{{ t.path }}`.

| column | type | meaning |
| --- | --- | --- |
{% for c in t.columns %}
| `{{ c.name }}` | {{ c.dtype | cell }} | {{ c.meaning | cell }} |
{% endfor %}

{% endfor %}
## Dataset creation

### Curation rationale

{{ rationale }}

### Source data

{% include "sources.md" %}

### How it was made

{% include "making.md" %}

### Annotations

{{ annotations }}

## Quality checks

{% include "checks.md" %}

## Student model

{{ student_text }}

## Personal and sensitive information

{{ personal_data }}

## Bias, risks and limitations

{% for item in limitations %}
- {{ item | md }}
{% endfor %}

## Licensing

License: `{{ card.license }}`; use class: {{ license.release_class }} (derived from the sources \
and the teacher's terms: {{ license.derived_class }}\
{% if license.override %}; overridden to {{ license.override }} because: \
{{ license.override_reason | md }}{% endif %}).

{% for e in license.entries %}
- {{ e.what | md }}: {{ e.license | md }} ({{ e.class }})
{% endfor %}

{% if license.declared_use %}Declared use: {{ license.declared_use }}, \
{{ "allowed" if license.use_allowed else "NOT allowed" }} by class {{ license.release_class }}.\
{% else %}No use was declared.{% endif %}


## Provenance

Release `{{ version }}`. `report.html` (also `report.md`, `report.json`) is the provenance report;
`croissant.json` (Croissant 1.1 with Responsible-AI fields), `provenance.prov.json` (W3C PROV) and
`MANIFEST.sha256` (SHA-256 of every file) sit beside it.

## Maintainers

{% if card.maintainers %}{{ card.maintainers | join(", ") }}{% else %}No maintainer was named.\
{% endif %}


## Citation

{% if card.citation %}
```
{{ card.citation }}
```
{% else %}The publisher gave no citation.
{% endif %}
"""

_SOURCES_MD = """\
{% if report.sources %}
| source | uri | license | license class | rows |
| --- | --- | --- | --- | --- |
{% for s in report.sources %}
| {{ s.name | cell }} | {{ s.uri | cell }} | {{ s.license | cell }} | \
{{ (s.get("license_class") or "not classified") | cell }} | {{ s.rows | num }} |
{% endfor %}
{% else %}No corpus source was recorded for this run.
{% endif %}
"""

_MAKING_MD = """\
- Documents mapped: {{ report.documents | num }}{% if report.splits %} \
({% for k, v in report.splits | dictsort %}{{ k }} {{ v | num }}{{ ", " if not loop.last }}\
{% endfor %}){% endif %}.
{% if report.quarantined is not none %}
- Rows quarantined at ingestion: {{ report.quarantined | num }}.
{% endif %}
- Clusters: {{ report.clusters | num }}; noise share: {{ report.noise_share | pct }}.
- Coverage gaps: {{ report.gaps | length }}.
- Samples accepted: {{ report.samples_accepted | num }}; rejected: \
{{ report.samples_rejected | num }}.
- Embedder: {{ embedder_text }}
- Teacher: {{ teacher_text }}
{% if report.methods %}
- Methods: {% for k, v in report.methods | dictsort %}{{ k }} {{ v | num }}\
{{ ", " if not loop.last }}{% endfor %}.
{% endif %}

{% if report.gaps %}
| gap | kind | score | budget | accepted | rationale |
| --- | --- | --- | --- | --- | --- |
{% for g in report.gaps %}
| `{{ g.gap_id[:12] }}` | {{ g.kind | cell }} | {{ g.score | num }} | {{ g.budget | num }} | \
{{ "not recorded" if g.get("accepted") is none else g.accepted | num }} | \
{{ (g.get("rationale") or "none given") | cell }} |
{% endfor %}
{% else %}No coverage gaps were found, so no samples were aimed at gaps.
{% endif %}

{% if reject_reasons %}
| rejection reason | samples |
| --- | --- |
{% for reason, n in reject_reasons %}
| {{ reason | cell }} | {{ n | num }} |
{% endfor %}
{% elif report.samples_rejected %}The run rejected {{ report.samples_rejected | num }} samples \
without recording reasons.
{% else %}No candidate sample was rejected.
{% endif %}
"""

_CHECKS_MD = """\
{% if checks %}
{{ n_passed }} of {{ checks | length }} checks passed.

| check | family | observed | threshold | result |
| --- | --- | --- | --- | --- |
{% for c in checks %}
| {{ c.name | cell }} | {{ c.family | cell }} | {{ c.observed | num }} | {{ c.threshold | num }} | \
{{ "passed" if c.passed else "FAILED" }} |
{% endfor %}
{% else %}No quality checks were run for this release.
{% endif %}
"""

_REPORT_MD = """\
# Release report: {{ card.pretty_name }}

Release `{{ version }}`, run `{{ report.run_id }}`, written {{ report.created_at }}.

{{ summary | md }}

This report answers where every row of the release came from, how it was checked and what it may
be used for. Sections 1 to 10 follow the release's life; the last table maps AI Act Art. 10(2)
to them.

{% for s in sections %}
## {% if s.number %}{{ s.number }}. {% endif %}{{ s.title }}

{% for b in s.blocks %}
{% include "block.md" %}

{% endfor %}
{% endfor %}
"""

_BLOCK_MD = """\
{% if b.kind == "p" %}
{{ b.text | md }}
{% elif b.kind == "list" %}
{% for item in b["items"] %}
- {{ item | md }}
{% endfor %}
{% elif b.kind == "table" %}
| {{ b.head | join(" | ") }} |
|{% for h in b.head %} --- |{% endfor %}

{% for row in b.rows %}
|{% for c in row %} {{ c | cell }} |{% endfor %}

{% endfor %}
{% elif b.kind == "code" %}
```text
{{ b.text }}
```
{% elif b.kind == "image" %}
![{{ b.alt }}]({{ b.file }})
{% elif b.kind == "svg" %}
![lineage graph: each box is a table, each arrow what it was made from]({{ b.file }})
{% endif %}
"""

_REPORT_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Release report: {{ card.pretty_name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 66rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; line-height: 1.45; }
h2 { border-bottom: 2px solid #dde3ee; padding-bottom: 0.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td { overflow-wrap: break-word; }
td.hash { overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 0.8em;
          min-width: 17ch; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.failed { color: #b00020; font-weight: bold; } td.passed { color: #176b28; }
pre { background: #f6f8fa; border: 1px solid #ddd; padding: 0.7rem; white-space: pre-wrap; }
nav ol { columns: 2; }
figure { margin: 0.5rem 0 1rem; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
img { max-width: 100%; border: 1px solid #ddd; }
</style>
</head>
<body>
<h1>Release report: {{ card.pretty_name }}</h1>
<p>Release <code>{{ version }}</code>, run <code>{{ report.run_id }}</code>, written
{{ report.created_at }}.</p>
<p>{{ summary }}</p>
<p>This report answers where every row of the release came from, how it was checked and what it
may be used for. Sections 1 to 10 follow the release's life; the last table maps AI Act Art. 10(2)
to them.</p>
<nav><ol>
{% for s in sections %}{% if s.number %}<li><a href="#{{ s.id }}">{{ s.title }}</a></li>
{% endif %}{% endfor %}</ol>
<p><a href="#art-10-2">Where this report answers AI Act Art. 10(2)</a></p></nav>
{% for s in sections %}

<section id="{{ s.id }}">
<h2>{% if s.number %}{{ s.number }}. {% endif %}{{ s.title }}</h2>
{% for b in s.blocks %}
{% include "block.html" %}
{% endfor %}
</section>
{% endfor %}
</body>
</html>
"""

_BLOCK_HTML = """\
{% if b.kind == "p" %}
<p>{{ b.text | inline }}</p>
{% elif b.kind == "list" %}
<ul>
{% for item in b["items"] %}<li>{{ item | inline }}</li>
{% endfor %}</ul>
{% elif b.kind == "table" %}
<table id="{{ b.id }}">
<tr>{% for h in b.head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in b.rows %}<tr>{% for c in row %}<td{{ c | cell_class(b.num[loop.index0]) }}>\
{{ c | inline }}</td>{% endfor %}</tr>
{% endfor %}</table>
{% elif b.kind == "code" %}
<pre><code>{{ b.text }}</code></pre>
{% elif b.kind == "image" %}
<img id="semantic-map" alt="{{ b.alt }}" src="data:image/png;base64,{{ b.b64 }}">
{% elif b.kind == "svg" %}
<figure id="lineage-graph">{{ b.svg | safe }}</figure>
{% endif %}
"""

TEMPLATES: dict[str, str] = {
    "block.html": _BLOCK_HTML,
    "block.md": _BLOCK_MD,
    "card.md": _CARD_MD,
    "checks.md": _CHECKS_MD,
    "making.md": _MAKING_MD,
    "report.html": _REPORT_HTML,
    "report.md": _REPORT_MD,
    "sources.md": _SOURCES_MD,
}


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


def render(name: str, context: dict[str, Any]) -> str:
    """Render template `name` with `context` (autoescaped when the name ends in `.html`)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.DictLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        cell=_cell, cell_class=_cell_class, inline=_inline, md=_md, num=format_value, pct=_pct
    )
    return env.get_template(name).render(**context)
