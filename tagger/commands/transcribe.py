"""``tagger transcribe AUDIO``: speech recognition, speaker turns and roles, no tagging."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path

from tagger.errors import InputError

OUTPUT_FORMATS = ("csv", "jsonl", "json")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "transcribe",
        help="audio -> role-attributed, timestamped transcript (ASR + speakers + roles)",
        description="Transcribe a session recording offline: faster-whisper ASR with word timestamps, "
        "speaker turns from voice embeddings (or one speaker per stereo channel), and the therapist "
        "found from what each speaker says.",
    )
    p.add_argument("audio", help="recording: wav, mp3, m4a, flac, ogg, webm, mp4 (anything FFmpeg reads)")
    p.add_argument("-o", "--output", help="write the transcript here (.csv, .jsonl or .json); default: CSV on stdout")
    p.add_argument("--format", choices=OUTPUT_FORMATS, help="output format (default: from the extension, else csv)")
    p.add_argument("--info", metavar="PATH", help="also write the run information (speakers, roles, timings) as JSON")
    add_audio_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary on stderr")
    p.set_defaults(handler=run)


def add_audio_arguments(p: argparse.ArgumentParser) -> None:
    """The audio options shared by ``transcribe`` and ``run``."""
    g = p.add_argument_group("audio")
    g.add_argument(
        "--asr-model",
        metavar="NAME_OR_DIR",
        help="CTranslate2 Whisper model directory or size name (default: bundled tiny.en)",
    )
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    g.add_argument("--compute-type", help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA)")
    g.add_argument("--beam-size", type=int, default=5)
    g.add_argument("--language", default="en", help="spoken language code, or 'auto' (multilingual models only)")
    g.add_argument(
        "--batched",
        action="store_true",
        help="faster-whisper batched pipeline (faster on GPU; may drop words at chunk edges)",
    )
    g.add_argument("--num-speakers", type=int, help="exact number of speakers (default: detected, 2-4)")
    g.add_argument("--min-speakers", type=int, default=2)
    g.add_argument("--max-speakers", type=int, default=4)
    g.add_argument(
        "--channels",
        choices=("auto", "mix", "split"),
        default="auto",
        help="split: one speaker per stereo channel; mix: diarize by voice; auto: split if the channels "
        "clearly hold different speakers",
    )
    g.add_argument("--therapist-speaker", metavar="LABEL", help="speaker label of the therapist, e.g. SPEAKER_1")
    g.add_argument("--role-model", metavar="DIR", help="role model directory (default: models/roles)")
    g.add_argument("--session-id", help="session id (default: the file name)")  # fmt: skip


def options_from_args(args: argparse.Namespace):
    from tagger.audio.options import TranscribeOptions

    return TranscribeOptions(
        asr_model=args.asr_model,
        device=args.device,
        compute_type=args.compute_type,
        beam_size=args.beam_size,
        language=None if args.language in (None, "auto") else args.language,
        batched=args.batched,
        num_speakers=args.num_speakers,
        min_speakers=args.min_speakers,
        max_speakers=max(args.max_speakers, args.min_speakers) if args.max_speakers is not None else 4,
        channels=args.channels,
        therapist_speaker=args.therapist_speaker,
        role_model=args.role_model,
        session_id=args.session_id,
    )


def run(args: argparse.Namespace) -> int:
    from tagger.audio.transcribe import transcribe

    fmt = args.format or _format_from_path(args.output)
    options = options_from_args(args)
    progress = None if args.quiet else _Progress()
    session, info = transcribe(args.audio, options, progress=progress)
    if progress is not None:
        progress.done()
    text = render(session, info, fmt)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.info:
        Path(args.info).write_text(json.dumps(info.to_dict(), indent=2) + "\n", encoding="utf-8")
    if not args.quiet:
        for w in info.warnings:
            print(f"tagger transcribe: warning: {w}", file=sys.stderr)
        speakers = ", ".join(f"{s.label}={s.role} ({s.confidence:.2f}, {s.words} words)" for s in info.speakers)
        print(
            f"tagger transcribe: {len(session.utterances)} utterances, {info.duration:.1f} s audio; {speakers}; "
            f"roles by {info.role_source}",
            file=sys.stderr,
        )
    return 0


def render(session, info, fmt: str) -> str:
    """The transcript as CSV (reference-transcript columns plus labels and times), JSONL or JSON."""
    if fmt == "json":
        return json.dumps({"session": session.to_dict(), "info": info.to_dict()}, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(u.to_dict()) + "\n" for u in session.utterances)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["session_id", "utterance_id", "speaker", "text", "speaker_label", "start", "end"])
    for u in session.utterances:
        w.writerow([u.session_id, u.utterance_id, u.speaker, u.text, u.speaker_label, f"{u.start:.2f}", f"{u.end:.2f}"])
    return buf.getvalue()


def _format_from_path(path: str | None) -> str:
    if not path:
        return "csv"
    ext = Path(path).suffix.lower().lstrip(".")
    if ext in OUTPUT_FORMATS:
        return ext
    raise InputError(f"cannot tell the output format from {path!r}; use a .csv, .jsonl or .json name or --format")


class _Progress:
    """One self-overwriting stderr line on a terminal; stage changes only otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        pct = int(fraction * 100)
        if self.tty:
            if self.last != (stage, pct):
                print(f"\r{stage}: {pct:3d}%   ", end="", file=sys.stderr, flush=True)
        elif self.last is None or self.last[0] != stage:
            print(f"tagger transcribe: {stage}...", file=sys.stderr, flush=True)
        self.last = (stage, pct)

    def done(self) -> None:
        if self.tty:
            print("\r" + " " * 30 + "\r", end="", file=sys.stderr, flush=True)
