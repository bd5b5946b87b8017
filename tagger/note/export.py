"""Note outputs: Markdown, JSON, HTML and PDF, chosen by name or by file extension."""

from __future__ import annotations

import json
from pathlib import Path

from tagger.errors import InputError
from tagger.io.writers import atomic_writer
from tagger.note.types import Note

OUTPUT_TYPES: tuple[str, ...] = ("md", "json", "html", "pdf")
_EXTENSIONS = {".md": "md", ".markdown": "md", ".json": "json", ".html": "html", ".htm": "html", ".pdf": "pdf"}


def output_type(path: str | Path, to: str | None = None) -> str:
    """The output type for ``path``: ``to`` if given, else from the extension (``-`` is Markdown)."""
    if to is not None:
        if to not in OUTPUT_TYPES:
            raise InputError(f"unknown note output type {to!r}; choose one of {', '.join(OUTPUT_TYPES)}")
        return to
    if str(path) == "-":
        return "md"
    ext = Path(path).suffix.lower()
    if ext not in _EXTENSIONS:
        raise InputError(f"cannot tell the note output type from {str(path)!r}: use a .md, .json, .html or .pdf "
                         "file name, or pass --to")
    return _EXTENSIONS[ext]


def render(note: Note, to: str = "md", include_transcript: bool = False) -> str | bytes:
    """The note rendered as ``md``, ``json``, ``html`` (str) or ``pdf`` (bytes).

    HTML and JSON always include the transcript (evidence links point into it); Markdown and
    PDF include it when ``include_transcript`` is set.
    """
    if to == "md":
        from tagger.note.render_md import render_markdown

        return render_markdown(note, include_transcript)
    if to == "json":
        return json.dumps(note.to_dict(), indent=2, ensure_ascii=False) + "\n"
    if to == "html":
        from tagger.note.render_html import render_html

        return render_html(note)
    if to == "pdf":
        from tagger.note.render_pdf import render_pdf

        return render_pdf(note, include_transcript)
    raise InputError(f"unknown note output type {to!r}; choose one of {', '.join(OUTPUT_TYPES)}")


def write_note(note: Note, path: str | Path, to: str | None = None, include_transcript: bool = False) -> str:
    """Render ``note`` and write it atomically to ``path`` (``-``: stdout, text types only). Returns the type."""
    kind = output_type(path, to)
    data = render(note, kind, include_transcript)
    if isinstance(data, bytes):
        if str(path) == "-":
            raise InputError("a PDF cannot be written to stdout; give a file name with -o")
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
    else:
        with atomic_writer(path) as fh:
            fh.write(data)
    return kind
