"""``tagger run AUDIO_OR_TRANSCRIPT -o OUTDIR``: the whole pipeline.

Writes, per session, into OUTDIR (each file atomically, so an interrupted run leaves no half
file): ``<id>.transcript.json`` (utterances with roles and times, plus the audio run's
provenance), ``<id>.tagged.jsonl`` (the ``tagger tag`` schema) and the draft note(s).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

AUDIO_EXTENSIONS = (
    ".wav",
    ".mp3",
    ".m4a",
    ".flac",
    ".ogg",
    ".oga",
    ".opus",
    ".webm",
    ".mp4",
    ".aac",
    ".wma",
    ".mkv",
    ".mov",
)


def register(sub: argparse._SubParsersAction) -> None:
    from tagger.commands.note import add_note_options
    from tagger.commands.tag import add_model_options
    from tagger.commands.transcribe import add_audio_arguments

    p = sub.add_parser("run", help="audio or transcript -> transcript with roles, tagged JSONL and a draft note")
    p.add_argument("input", type=Path, help="a recording (wav, mp3, m4a, flac, ogg, webm, mp4) or a transcript file")
    p.add_argument("-o", "--outdir", type=Path, required=True, help="output folder")
    p.add_argument(
        "--therapist",
        action="append",
        default=[],
        metavar="NAME",
        help="transcripts with named speakers: the therapist's name (repeatable)",
    )
    p.add_argument(
        "--note",
        action="append",
        default=None,
        metavar="EXT",
        help="note file types to write: md, html, pdf, json (repeatable; default: md); 'none' for no note",
    )
    add_note_options(p, prefix="note-")
    add_audio_arguments(p)  # brings --device, shared with the classifier
    add_model_options(p, device=False)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(handler=run)


def _stage_printer(quiet: bool):
    last: dict[str, int] = {}

    def show(stage: str, fraction: float) -> None:
        pct = int(fraction * 100)
        if quiet or last.get(stage) == pct // 10:
            return
        last[stage] = pct // 10
        print(f"tagger run: {stage:9s} {pct:3d}%", file=sys.stderr)

    return show


def run(args: argparse.Namespace) -> int:
    from tagger.commands.note import write_session_notes
    from tagger.commands.tag import pipeline_config
    from tagger.errors import InputError
    from tagger.io.writers import atomic_writer, jsonl_lines
    from tagger.pipeline import Pipeline

    notes = [n.lower().lstrip(".") for n in (args.note or ["md"])]
    if "none" in notes:
        notes = []
    bad = [n for n in notes if n not in ("md", "html", "pdf", "json")]
    if bad:
        raise InputError(f"--note {bad[0]!r}: choose md, html, pdf, json or none")
    show = _stage_printer(args.quiet)
    pipe = Pipeline(pipeline_config(args, therapist_names=tuple(args.therapist)))
    info = None
    if args.input.suffix.lower() in AUDIO_EXTENSIONS:
        from tagger.audio.transcribe import transcribe
        from tagger.commands.transcribe import options_from_args

        session, info = transcribe(args.input, options_from_args(args), progress=show)
        sessions = [session]
    else:
        sessions = pipe.read(args.input)
    results = pipe.tag(sessions, lambda stage, done, total: show(stage, done / max(total, 1)))
    out = args.outdir
    out.mkdir(parents=True, exist_ok=True)
    for r in results:
        sid = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in r.session.session_id)
        doc = {"session": r.session.to_dict(), "run": r.run.__dict__}
        if info is not None:
            doc["transcription"] = info.to_dict()
        with atomic_writer(out / f"{sid}.transcript.json") as fh:
            json.dump(doc, fh, indent=1, ensure_ascii=False)
        with atomic_writer(out / f"{sid}.tagged.jsonl") as fh:
            fh.writelines(jsonl_lines(r.tagged))
        if notes:
            write_session_notes(
                list(r.tagged),
                [str(out / f"{sid}.note.{ext}") for ext in notes],
                fmt=args.note_format,
                to=args.note_to,
                deidentify=args.deidentify,
                deidentified_jsonl=args.deidentified_jsonl,
                include_transcript=args.with_transcript,
                model=f"{r.run.model_name} ({r.run.backend})",
                source=str(args.input),
            )
        flags = sum(t.risk_indicator for t in r.tagged)
        print(
            f"tagger run: {r.session.session_id}: {len(r.tagged)} utterances -> {out}/{sid}.*"
            + (f"; {flags} client risk indicator(s): see the note" if flags else ""),
            file=sys.stderr,
        )
    if info is not None:
        for w in info.warnings:
            print(f"tagger run: warning: {w}", file=sys.stderr)
    return 0
