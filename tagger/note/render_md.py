"""Markdown rendering of a :class:`Note`."""

from __future__ import annotations

import re

from tagger.note.types import Evidence, Note, Section, Statement, TranscriptLine

_MD_SPECIAL = re.compile(r"([\\`*<>|])")  # brackets and underscores stay literal: "[clinician to complete]"


def md_escape(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def anchor(utterance_id: str) -> str:
    """The HTML/Markdown anchor of a transcript line: ``u-<id>`` with unsafe characters replaced."""
    return "u-" + re.sub(r"[^A-Za-z0-9_.:-]", "-", utterance_id)


def evidence_meta(e: Evidence) -> str:
    parts = [e.utterance_id]
    if e.time:
        parts.append(e.time)
    parts.append(e.speaker)
    if e.code:
        parts.append(e.code)
    if e.confidence is not None:
        parts.append(f"conf {e.confidence:.2f}")
    return " · ".join(parts)


def _evidence(e: Evidence, link: bool) -> str:
    meta = md_escape(evidence_meta(e))
    if link:
        meta = f"[{meta}](#{anchor(e.utterance_id)})"
    review = " **REVIEW**" if e.review else ""
    return f"    - {meta}{review} — “{md_escape(e.quote)}”"


def _statement(s: Statement, link: bool) -> list[str]:
    marks = ("**⚠ " if s.flag else "") + md_escape(s.text) + ("**" if s.flag else "")
    if s.review:
        marks += " **[review]**"
    return [f"- {marks}"] + [_evidence(e, link) for e in s.evidence]


def _section(sec: Section, level: str, link: bool, title: str | None = None) -> list[str]:
    out = [f"{level} {title or sec.title}", ""]
    for group, stmts in sec.groups():
        out += [f"{level}# {md_escape(group)}", ""]
        for s in stmts:
            out += _statement(s, link)
        out.append("")
    return out


def _transcript(lines: tuple[TranscriptLine, ...]) -> list[str]:
    out = ["## Transcript", ""]
    for t in lines:
        ts = f"{t.time} " if t.time else ""
        codes = f" `{', '.join(t.codes)}`" if t.codes else ""
        review = f" (review: {', '.join(t.review)})" if t.review else ""
        out.append(f'- <a id="{anchor(t.utterance_id)}"></a>**{md_escape(t.utterance_id)}** {ts}'
                   f"*{t.speaker}*: {md_escape(t.text)}{codes}{review}")
    return out + [""]


def header_rows(note: Note) -> list[tuple[str, str]]:
    """The header fields every renderer shows, in order."""
    h = note.header
    return [("Session", h.session_id), ("Session date", h.session_date), ("Clinician", h.clinician),
            ("Source file", h.source or "not recorded"),
            ("Labels from model", h.model or "not recorded in the input (pass --model-name)"),
            ("tagger version", h.tagger_version), ("Drafted", h.drafted_at),
            ("De-identified", "yes (typed placeholders replace identifiers)" if h.deidentified else "no")]


def render_markdown(note: Note, include_transcript: bool = False) -> str:
    """The note as Markdown; with ``include_transcript`` evidence ids link to transcript lines."""
    h = note.header
    link = include_transcript and bool(note.transcript)
    rows = header_rows(note)
    banner = note.banner if note.signed else note.banner.upper()
    out = [f"# {note.title}", "", f"> **{md_escape(banner)}** {md_escape(h.disclaimer)}", "",
           "| Field | Value |", "|---|---|"]
    out += [f"| {k} | {md_escape(v)} |" for k, v in rows]
    out.append("")
    if note.alerts:
        out += _section(note.alerts, "##", link, "⚠ Risk alert")
    for sec in note.sections:
        out += _section(sec, "##", link, f"{sec.key} — {sec.title}")
    out += _section(note.appendix, "##", link)
    if link:
        out += _transcript(note.transcript)
    return "\n".join(out).rstrip() + "\n"
