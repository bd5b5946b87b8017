from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from note_helpers import SESSIONS, load
from PIL import Image

from tagger.errors import InputError
from tagger.note import CLINICIAN, build_note, output_type, render, write_note

needs_poppler = pytest.mark.skipif(shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
                                   reason="poppler-utils not installed (see .ci/apt-packages.note.txt)")


@pytest.mark.parametrize("name", SESSIONS)
@pytest.mark.parametrize("fmt", ["soap", "dap", "birp"])
def test_every_fixture_in_every_format_and_type(tmp_path: Path, name: str, fmt: str) -> None:
    note = build_note(load(name), fmt, source=f"{name}.jsonl", model="fixture 1.0")
    for ext in ("md", "json", "html", "pdf"):
        path = tmp_path / f"{name}.{fmt}.{ext}"
        assert write_note(note, path) == ext
        assert path.stat().st_size > 1000
    md = (tmp_path / f"{name}.{fmt}.md").read_text(encoding="utf-8")
    assert md.startswith(f"# {fmt.upper()} progress note (draft)")
    assert CLINICIAN in md and "REQUIRES CLINICIAN REVIEW" in md
    assert ("Risk alert" in md) == (note.alerts is not None)
    assert json.loads((tmp_path / f"{name}.{fmt}.json").read_text(encoding="utf-8"))["format"] == fmt
    assert (tmp_path / f"{name}.{fmt}.pdf").read_bytes().startswith(b"%PDF-")


def test_html_evidence_links_reach_transcript_lines() -> None:
    note = build_note(load("risk_unassessed"), "soap")
    html = render(note, "html")
    assert isinstance(html, str)
    links = re.findall(r'href="#(u-[^"]+)"', html)
    anchors = re.findall(r'id="(u-[^"]+)"', html)
    assert links and set(links) <= set(anchors)
    assert len(anchors) == len(note.transcript)
    assert html.index('class="alert"') < html.index("S — Subjective")  # the risk block comes first
    assert "<script" not in html


def test_markdown_quotes_are_escaped_and_transcript_optional() -> None:
    items = load("cbt_depression")
    note = build_note(items, "soap")
    plain = render(note, "md")
    linked = render(note, "md", include_transcript=True)
    assert "## Transcript" not in plain and "## Transcript" in linked
    assert "](#u-u019)" in linked
    assert "<b>" not in render(build_note(_with_text(items, "<b>bold</b> *x*"), "soap"), "md")


def _with_text(items: list, text: str) -> list:
    import dataclasses

    return [dataclasses.replace(t, utterance=dataclasses.replace(t.utterance, text=text)) for t in items]


def test_output_type() -> None:
    assert [output_type(p) for p in ("a.md", "b.JSON", "c.htm", "d.pdf", "-")] == ["md", "json", "html", "pdf", "md"]
    assert output_type("note.txt", "html") == "html"
    with pytest.raises(InputError, match="--to"):
        output_type("note.txt")
    with pytest.raises(InputError, match="stdout"):
        write_note(build_note(load("mi_alcohol"), "soap"), "-", "pdf")


@needs_poppler
def test_pdf_renders_to_png_pages(tmp_path: Path) -> None:
    note = build_note(load("risk_unassessed"), "soap", source="risk_unassessed.jsonl", model="fixture 1.0")
    pdf = tmp_path / "note.pdf"
    write_note(note, pdf, include_transcript=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(tmp_path / "page")], check=True, timeout=60)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 2
    img = Image.open(pages[0]).convert("RGB")
    assert img.size[0] < img.size[1]  # portrait A4
    px = list(img.get_flattened_data()) if hasattr(img, "get_flattened_data") else list(img.getdata())
    dark = sum(1 for r, g, b in px if r + g + b < 300)
    red = sum(1 for r, g, b in px if r > 140 and g < 80 and b < 80)
    assert dark > 0.01 * len(px)  # text on the page
    assert red > 50  # the risk alert is drawn in red on page 1
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    assert "s-risk-03" in text and "[clinician to complete]" in text and "Risk alert" in text
    assert "NO RISK ASSESSMENT DOCUMENTED" in text and "u018" in text
