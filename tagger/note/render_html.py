"""Self-contained HTML rendering of a :class:`Note`; evidence links jump to the transcript below it."""

from __future__ import annotations

from functools import lru_cache

import jinja2

from tagger.note.render_md import anchor, evidence_meta, header_rows
from tagger.note.types import Note

_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ note.title }} — {{ h.session_id }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; max-width: 58rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.45; color: #1b1b1b; }
h1 { font-size: 1.6rem; margin-bottom: .3rem; }
h2 { border-bottom: 2px solid #d8dde3; padding-bottom: .2rem; margin-top: 2rem; }
h3 { font-size: 1.02rem; margin: 1.1rem 0 .3rem; color: #34495e; }
.draft { background: #fff8e1; border-left: 5px solid #f0a500; padding: .6rem .9rem; }
table.meta { border-collapse: collapse; margin: 1rem 0; }
table.meta td { padding: .15rem .8rem .15rem 0; vertical-align: top; }
table.meta td:first-child { color: #555; }
.alert { background: #fdecea; border: 2px solid #c0392b; padding: .4rem 1rem; border-radius: 4px; }
.alert h2 { color: #c0392b; border: 0; margin-top: .4rem; }
ul.statements { padding-left: 1.2rem; }
ul.statements > li { margin: .35rem 0; }
li.flag > .text { color: #a61b0f; font-weight: 600; }
.placeholder { color: #6a1b9a; font-style: italic; }
.review { background: #fff3cd; border: 1px solid #e0b000; border-radius: 3px; padding: 0 .3rem; font-size: .8rem;
          font-weight: 600; }
ul.evidence { list-style: none; padding-left: .6rem; margin: .15rem 0 .4rem; font-size: .9rem; color: #333; }
ul.evidence li { margin: .1rem 0; }
ul.evidence a { color: #1a5fb4; text-decoration: none; font-family: ui-monospace, monospace; font-size: .82rem; }
.quote { font-style: italic; }
.transcript { font-size: .92rem; }
.transcript .line { padding: .2rem .4rem; border-radius: 3px; }
.transcript .line:target { background: #fff3cd; }
.transcript .who { font-weight: 600; }
.transcript .client .who { color: #2e7d32; }
.transcript .therapist .who { color: #1a5fb4; }
.transcript .codes { color: #666; font-size: .8rem; font-family: ui-monospace, monospace; }
.transcript .t { color: #777; font-family: ui-monospace, monospace; font-size: .8rem; }
</style>
</head>
<body>
<h1>{{ note.title }}</h1>
<p class="draft"><strong>{{ note.banner }}</strong> {{ h.disclaimer }}</p>
<table class="meta">
{% for k, v in meta %}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>
{% endfor %}</table>
{% macro section(sec, title) %}
<h2>{{ title }}</h2>
{% for group, stmts in sec.groups() %}
<h3>{{ group }}</h3>
<ul class="statements">
{% for s in stmts %}<li{% if s.flag %} class="flag"{% endif %}>
<span class="text{{ ' placeholder' if s.kind == 'placeholder' }}">
{%- if s.flag %}⚠ {% endif %}{{ s.text }}</span>{% if s.review %} <span class="review">review</span>{% endif %}
{% if s.evidence %}<ul class="evidence">
{% for e in s.evidence %}<li><a href="#{{ anchor(e.utterance_id) }}">{{ evidence_meta(e) }}</a>
{%- if e.review %} <span class="review">review</span>{% endif %} — <span class="quote">“{{ e.quote }}”</span></li>
{% endfor %}</ul>{% endif %}</li>
{% endfor %}</ul>
{% endfor %}
{% endmacro %}
{% if note.alerts %}<div class="alert">{{ section(note.alerts, "⚠ Risk alert") }}</div>{% endif %}
{% for sec in note.sections %}{{ section(sec, sec.key ~ " — " ~ sec.title) }}{% endfor %}
{{ section(note.appendix, note.appendix.title) }}
<h2 id="transcript">Transcript</h2>
<div class="transcript">
{% for t in note.transcript %}<div class="line {{ t.speaker }}" id="{{ anchor(t.utterance_id) }}">
<span class="t">{{ t.utterance_id }}{% if t.time %} {{ t.time }}{% endif %}</span>
<span class="who">{{ t.speaker }}:</span> {{ t.text }}
{% if t.codes %}<span class="codes">[{{ t.codes | join(", ") }}]</span>{% endif %}
{% if t.review %}<span class="review">review: {{ t.review | join(", ") }}</span>{% endif %}
</div>
{% endfor %}</div>
</body>
</html>
"""


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals.update(anchor=anchor, evidence_meta=evidence_meta)
    return env.from_string(_TEMPLATE)


def render_html(note: Note) -> str:
    """The note as one self-contained HTML page, transcript included at the bottom."""
    return _template().render(note=note, h=note.header, meta=header_rows(note))
