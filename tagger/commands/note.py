"""``tagger note TAGGED.jsonl --format soap|dap|birp -o note.md``: draft progress notes from tagged JSONL.

The output type follows each ``-o`` file's extension (.md, .json, .html, .pdf; ``-o`` may be
repeated); an input holding several sessions gives one file per session (``note.<session>.md``).
``tagger run`` reuses :func:`add_note_options` and :func:`write_session_notes`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from tagger.errors import InputError
from tagger.types import TaggedUtterance


def add_note_options(p: argparse.ArgumentParser, prefix: str = "") -> None:
    """Note options (``args.note_format``, ``args.note_to``, ``args.deidentify``, ``args.deidentified_jsonl``,
    ``args.with_transcript``); ``prefix="note-"`` spells them ``--note-format`` / ``--note-to`` for commands
    whose ``--format`` means something else."""
    from tagger.note import NOTE_FORMATS, OUTPUT_TYPES

    p.add_argument(f"--{prefix}format", dest="note_format", default="soap", choices=NOTE_FORMATS,
                   help="note template (default: soap)")
    p.add_argument(f"--{prefix}to", dest="note_to", default=None, choices=OUTPUT_TYPES,
                   help="output type when the file extension does not say it (default: from the extension; md for -)")
    p.add_argument("--deidentify", action="store_true",
                   help="replace names, phone numbers, e-mails, addresses, dates and other identifiers by typed "
                        "placeholders in the transcript and the note (offline presidio + spaCy)")
    p.add_argument("--deidentified-jsonl", type=Path, default=None, metavar="PATH",
                   help="with --deidentify: also write the de-identified tagged transcript here")
    p.add_argument("--with-transcript", action="store_true",
                   help="append the tagged transcript to Markdown and PDF notes (HTML and JSON always have it)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("note", help="draft SOAP/DAP/BIRP progress notes (md, json, html, pdf) from tagged JSONL")
    p.add_argument("input", type=Path, help="tagged JSONL written by `tagger tag` or `tagger run`")
    p.add_argument("-o", "--output", action="append", default=None, metavar="PATH",
                   help="output file (.md, .json, .html, .pdf), repeatable; - for stdout (default)")
    p.add_argument("--session", default=None, metavar="ID", help="draft only this session (default: every session)")
    p.add_argument("--model-name", default=None, metavar="NAME",
                   help="model name/version that produced the labels, shown in the note header")
    add_note_options(p)
    p.set_defaults(handler=run)


def session_path(path: str, session_id: str, several: bool) -> str:
    """``note.md`` -> ``note.<session_id>.md`` when the input holds several sessions."""
    if not several or path == "-":
        return path
    p = Path(path)
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in session_id)
    return str(p.with_name(f"{p.stem}.{safe}{p.suffix}"))


def write_session_notes(
    tagged: Sequence[TaggedUtterance],
    outputs: Sequence[str],
    *,
    fmt: str = "soap",
    to: str | None = None,
    deidentify: bool = False,
    deidentified_jsonl: Path | None = None,
    include_transcript: bool = False,
    model: str | None = None,
    source: str | None = None,
    session: str | None = None,
) -> list[str]:
    """Draft, render and write the note of every session in ``tagged``; returns the paths written."""
    from tagger.io.writers import write_jsonl
    from tagger.note import build_note, output_type, split_sessions, write_note

    for out in outputs:
        output_type(out, to)  # fail on a bad name before any work
    if deidentified_jsonl is not None and not deidentify:
        raise InputError("--deidentified-jsonl needs --deidentify")
    sessions = split_sessions(tagged)
    if session is not None:
        if session not in sessions:
            raise InputError(f"session {session!r} is not in the input; it holds: {', '.join(list(sessions)[:10])}")
        sessions = {session: sessions[session]}
    if not sessions:
        raise InputError("the input holds no tagged utterances")
    if sum(o == "-" for o in outputs) and len(sessions) > 1:
        raise InputError(f"the input holds {len(sessions)} sessions: write them to files (-o note.md gives "
                         "note.<session>.md) or pick one with --session")
    if deidentify:
        from tagger.note.deid import Deidentifier

        deid = Deidentifier()
        sessions = {sid: deid.deidentify(items) for sid, items in sessions.items()}
        if deidentified_jsonl is not None:
            write_jsonl([t for items in sessions.values() for t in items], deidentified_jsonl)
        source = None if source is None else "withheld (de-identified note)"
    written = []
    several = len(sessions) > 1
    for items in sessions.values():
        note = build_note(items, fmt, source=source, model=model, deidentified=deidentify)
        for out in outputs:
            path = session_path(out, note.header.session_id, several)
            write_note(note, path, to, include_transcript)
            written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    from tagger.io.writers import read_tagged_jsonl

    if not args.input.is_file():
        raise InputError(f"{args.input}: no such file; pass the tagged JSONL written by `tagger tag -o`")
    tagged = read_tagged_jsonl(args.input)
    outputs = args.output or ["-"]
    written = write_session_notes(
        tagged, outputs, fmt=args.note_format, to=args.note_to, deidentify=args.deidentify,
        deidentified_jsonl=args.deidentified_jsonl, include_transcript=args.with_transcript,
        model=args.model_name, source=args.input.name, session=args.session,
    )
    files = [w for w in written if w != "-"]
    if files:
        print(f"wrote {len(files)} note file(s): {', '.join(files)}", file=sys.stderr)
    return 0
