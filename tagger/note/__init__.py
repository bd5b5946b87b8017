"""Evidence-linked progress notes (SOAP, DAP, BIRP) drafted from tagged utterances.

``build_note(tagged, "soap")`` returns a frozen :class:`Note` (sections -> statements ->
evidence); ``render`` / ``write_note`` turn it into Markdown, JSON, HTML or PDF;
``Deidentifier`` (``tagger.note.deid``) replaces identifiers by typed placeholders first.
"""

from tagger.note.build import build_note, split_sessions
from tagger.note.export import OUTPUT_TYPES, output_type, render, write_note
from tagger.note.types import (
    CLINICIAN,
    NOTE_FORMATS,
    Evidence,
    Note,
    NoteHeader,
    Section,
    Statement,
    TranscriptLine,
)

__all__ = [
    "CLINICIAN", "NOTE_FORMATS", "OUTPUT_TYPES", "Evidence", "Note", "NoteHeader", "Section", "Statement",
    "TranscriptLine", "build_note", "output_type", "render", "split_sessions", "write_note",
]
