"""Jinja2 templates of the release: the dataset card body, report.md and report.html.

Kept in Python so they ship inside the wheel. `render` autoescapes the `.html` template only; the
Markdown templates escape table cells with the `cell` filter instead. Every missing value is
stated plainly by the context (`lineage.release`), never left as a blank.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TEMPLATES", "render"]

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

License: `{{ card.license }}`{% if card.license_class %} (use class: \
{{ card.license_class }}){% endif %}.
{{ license_note }}

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

Run `{{ report.run_id }}`, created {{ report.created_at }}.

{{ summary | md }}

## Counts

| measure | value |
| --- | --- |
{% for label, value in counts %}
| {{ label }} | {{ value }} |
{% endfor %}

## Semantic map

{% if map_file %}![semantic map]({{ map_file }}){% else %}No semantic map image was produced \
in this run.{% endif %}


## How it was made

{% include "making.md" %}

## Quality checks

{% include "checks.md" %}

## Sources and licenses

{% include "sources.md" %}

## Models

- Embedder: {{ embedder_text }}
- Teacher: {{ teacher_text }}
- Student: {{ student_text }}

## Limitations

{% for item in limitations %}
- {{ item | md }}
{% endfor %}
"""

_REPORT_HTML = """\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Release report: {{ card.pretty_name }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.passed { color: #176b28; } .failed { color: #b00020; font-weight: bold; }
code { font-size: 0.9em; } img { max-width: 100%; border: 1px solid #ddd; }
</style>
</head>
<body>
<h1>Release report: {{ card.pretty_name }}</h1>
<p>Run <code>{{ report.run_id }}</code>, created {{ report.created_at }}.</p>
<p>{{ summary }}</p>

<h2>Counts</h2>
<table id="counts">
<tr><th>measure</th><th>value</th></tr>
{% for label, value in counts %}<tr><td>{{ label }}</td><td class="num">{{ value }}</td></tr>
{% endfor %}</table>

<h2>Semantic map</h2>
{% if map_b64 %}<img id="semantic-map" alt="semantic map of the corpus and the synthetic samples"
 src="data:image/png;base64,{{ map_b64 }}">
{% else %}<p>No semantic map image was produced in this run.</p>{% endif %}

<h2>Coverage gaps</h2>
{% if report.gaps %}<table id="gaps">
<tr><th>gap</th><th>kind</th><th>score</th><th>budget</th><th>accepted</th><th>rationale</th></tr>
{% for g in report.gaps %}<tr><td><code>{{ g.gap_id[:12] }}</code></td><td>{{ g.kind }}</td>
<td class="num">{{ g.score | num }}</td><td class="num">{{ g.budget | num }}</td>
<td class="num">{{ "not recorded" if g.get("accepted") is none else g.accepted | num }}</td>
<td>{{ g.get("rationale") or "none given" }}</td></tr>
{% endfor %}</table>
{% else %}<p>No coverage gaps were found, so no samples were aimed at gaps.</p>{% endif %}

<h2>Rejected samples</h2>
{% if reject_reasons %}<table id="rejects"><tr><th>reason</th><th>samples</th></tr>
{% for reason, n in reject_reasons %}<tr><td>{{ reason }}</td>
<td class="num">{{ n | num }}</td></tr>
{% endfor %}</table>
{% elif report.samples_rejected %}<p>The run rejected {{ report.samples_rejected | num }} samples
without recording reasons.</p>
{% else %}<p>No candidate sample was rejected.</p>{% endif %}

<h2>Quality checks</h2>
{% if checks %}<p>{{ n_passed }} of {{ checks | length }} checks passed.</p>
<table id="checks">
<tr><th>check</th><th>family</th><th>observed</th><th>threshold</th><th>result</th></tr>
{% for c in checks %}<tr><td>{{ c.name }}</td><td>{{ c.family }}</td>
<td class="num">{{ c.observed | num }}</td><td class="num">{{ c.threshold | num }}</td>
<td class="{{ 'passed' if c.passed else 'failed' }}">{{ "passed" if c.passed else "FAILED" }}</td>
</tr>
{% endfor %}</table>
{% else %}<p>No quality checks were run for this release.</p>{% endif %}

<h2>Student model</h2>
<p>{{ student_text }}</p>

<h2>Sources and licenses</h2>
{% if report.sources %}<table id="sources">
<tr><th>source</th><th>uri</th><th>license</th><th>license class</th><th>rows</th></tr>
{% for s in report.sources %}<tr><td>{{ s.name }}</td><td><code>{{ s.uri }}</code></td>
<td>{{ s.license }}</td><td>{{ s.get("license_class") or "not classified" }}</td>
<td class="num">{{ s.rows | num }}</td></tr>
{% endfor %}</table>
{% else %}<p>No corpus source was recorded for this run.</p>{% endif %}
<p>Release license: <code>{{ card.license }}</code>{% if card.license_class %}
 (use class: {{ card.license_class }}){% endif %}.</p>

<h2>Models</h2>
<ul>
<li>Embedder: {{ embedder_text }}</li>
<li>Teacher: {{ teacher_text }}</li>
</ul>

<h2>Limitations</h2>
<ul>
{% for item in limitations %}<li>{{ item }}</li>
{% endfor %}</ul>
</body>
</html>
"""

TEMPLATES: dict[str, str] = {
    "card.md": _CARD_MD,
    "checks.md": _CHECKS_MD,
    "making.md": _MAKING_MD,
    "report.html": _REPORT_HTML,
    "report.md": _REPORT_MD,
    "sources.md": _SOURCES_MD,
}


def _md(value: Any) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cell(value: Any) -> str:
    return _md(value).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _num(value: Any) -> str:
    if value is None:
        return "not measured"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


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
    env.filters.update(cell=_cell, md=_md, num=_num, pct=_pct)
    return env.get_template(name).render(**context)
