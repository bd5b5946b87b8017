"""PDF rendering of a :class:`Note` with fpdf2 (pure Python), DejaVu Sans embedded for Unicode text."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from tagger.errors import InputError
from tagger.note.render_md import evidence_meta, header_rows
from tagger.note.types import Note, Section, Statement

FONT = "DejaVu"
_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf",
          "BI": "DejaVuSans-BoldOblique.ttf"}
_SYSTEM_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

INK = (27, 27, 27)
MUTED = (90, 90, 90)
ACCENT = (26, 95, 180)
RED = (166, 27, 15)
PURPLE = (106, 27, 154)
AMBER_BG = (255, 243, 205)
RED_BG = (253, 236, 234)


def font_dir() -> Path:
    """Directory holding DejaVu Sans: matplotlib's bundled copy, else the system's (fonts-dejavu-core)."""
    spec = importlib.util.find_spec("matplotlib")
    candidates = [Path(p) / "mpl-data" / "fonts" / "ttf" for p in (spec.submodule_search_locations or [])] \
        if spec else []
    for d in [*candidates, *_SYSTEM_DIRS]:
        if all((d / f).is_file() for f in _FILES.values()):
            return d
    raise InputError("PDF output needs the DejaVu Sans fonts: install matplotlib (bundles them) or the Debian "
                     "package fonts-dejavu-core")


class _NotePDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(format="A4", unit="mm")
        self._footer_text = footer_text
        d = font_dir()
        for style, name in _FILES.items():
            self.add_font(FONT, style, str(d / name))
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(0, 5, f"{self._footer_text}  ·  page {self.page_no()}/{{nb}}", align="C")


def _para(pdf: FPDF, text: str, size: float = 9.5, style: str = "", color: tuple[int, int, int] = INK,
          indent: float = 0.0, line: float = 4.6, fill: tuple[int, int, int] | None = None, bullet: str = "") -> None:
    """A left-aligned paragraph; with ``bullet`` a hanging indent keeps wrapped lines clear of it."""
    pdf.set_x(pdf.l_margin + indent)
    pdf.set_font(FONT, style, size)
    pdf.set_text_color(*color)
    if fill:
        pdf.set_fill_color(*fill)
    if bullet:
        pdf.cell(4, line, bullet)
        indent += 4
    pdf.multi_cell(pdf.w - pdf.r_margin - pdf.l_margin - indent, line, text, fill=bool(fill), align="L",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _statement(pdf: FPDF, s: Statement) -> None:
    color = RED if s.flag else PURPLE if s.kind == "placeholder" else INK
    text = ("⚠ " if s.flag else "") + s.text + ("  [REVIEW]" if s.review else "")
    _para(pdf, text, style="B" if s.flag else "", color=color, indent=2, bullet="•")
    for e in s.evidence:
        meta = evidence_meta(e) + ("  [REVIEW]" if e.review else "")
        _para(pdf, f"{meta} — “{e.quote}”", size=8, color=MUTED, indent=6, line=3.9,
              fill=AMBER_BG if e.review else None)
    pdf.ln(0.8)


def _section(pdf: FPDF, sec: Section, title: str, alert: bool = False) -> None:
    if pdf.get_y() > pdf.h - 45:
        pdf.add_page()
    pdf.ln(3)
    _para(pdf, title, size=13, style="B", color=RED if alert else ACCENT, line=6.5, fill=RED_BG if alert else None)
    y = pdf.get_y()
    pdf.set_draw_color(*(RED if alert else (200, 206, 214)))
    pdf.line(pdf.l_margin, y, pdf.w - pdf.r_margin, y)
    pdf.ln(1.5)
    for group, stmts in sec.groups():
        if pdf.get_y() > pdf.h - 35:
            pdf.add_page()
        _para(pdf, group, size=10.5, style="B", color=(52, 73, 94), line=5.5)
        for s in stmts:
            _statement(pdf, s)


def render_pdf(note: Note, include_transcript: bool = False) -> bytes:
    """The note as PDF bytes (A4). ``include_transcript`` appends the tagged transcript."""
    h = note.header
    pdf = _NotePDF(f"{h.session_id}  ·  AI-drafted note — requires clinician review")
    pdf.set_title(f"{note.title} — {h.session_id}")
    pdf.set_creator(f"tagger {h.tagger_version}")
    pdf.add_page()
    _para(pdf, note.title, size=17, style="B", line=8)
    pdf.ln(1)
    _para(pdf, note.banner + " " + h.disclaimer, size=9, style="B", color=(120, 80, 0),
          fill=AMBER_BG, line=4.6)
    pdf.ln(2)
    for k, v in header_rows(note):
        pdf.set_font(FONT, "", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(34, 5, k)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 5, v, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if note.alerts:
        _section(pdf, note.alerts, "⚠ Risk alert", alert=True)
    for sec in note.sections:
        _section(pdf, sec, f"{sec.key} — {sec.title}")
    _section(pdf, note.appendix, note.appendix.title)
    if include_transcript and note.transcript:
        pdf.add_page()
        _para(pdf, "Transcript", size=13, style="B", color=ACCENT, line=6.5)
        for t in note.transcript:
            head = f"{t.utterance_id}{' ' + t.time if t.time else ''} {t.speaker}: "
            codes = f"  [{', '.join(t.codes)}]" if t.codes else ""
            _para(pdf, head + t.text + codes, size=8, line=3.9)
    pdf.ln(4)
    _para(pdf, "Clinician signature / date: [clinician to complete]", size=9.5, style="B", color=PURPLE)
    return bytes(pdf.output())
