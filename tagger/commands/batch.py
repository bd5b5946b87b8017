"""``tagger batch INPUT -o OUTDIR``: tag an archive of transcripts and recordings, resumably.

INPUT is a folder (searched recursively), a glob pattern (quote it) or a manifest (CSV/JSONL
with a "path" column; other columns are metadata). Re-running the same command resumes: inputs
already tagged with the same content and model are skipped. Exit code 0: every input tagged;
1: some inputs failed (see OUTDIR/errors.csv); 2: unusable arguments; 3: model problem;
4: a worker died mid-run (finished inputs are kept: run the command again to resume).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tagger.commands.tag import add_model_options, pipeline_config


def _note_default() -> str:
    import importlib.util

    return "soap" if importlib.util.find_spec("tagger.note") is not None else "none"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("batch", help="tag a folder, glob or manifest of transcripts/recordings (resumable)",
                       description=__doc__.split("\n\n")[1] if __doc__ else None)
    p.add_argument("input", help="folder, glob pattern (quoted) or manifest (.csv/.jsonl with a 'path' column)")
    p.add_argument("-o", "--output", dest="outdir", type=Path, required=True,
                   help="output folder (created; re-running with the same folder resumes)")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local: this machine's cores (default); ray: Ray Data actor pools (GPU actors when the "
                        "cluster has GPUs)")
    p.add_argument("--workers", type=int, default=None,
                   help="processes (local) or actors per stage (ray), each loading the models once (default: one "
                        "per 4 cores, using them all; ray with GPUs: one per GPU); --threads sets threads per worker")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="address of an existing Ray cluster (default: start a local one)")
    p.add_argument("--group-size", type=int, default=32, metavar="N",
                   help="inputs classified together in one batch (default 32); results are reproducible for a given "
                        "group size, and a killed run redoes at most one group per worker")
    p.add_argument("--note", choices=("soap", "dap", "birp", "none"), default=_note_default(),
                   help="draft note per session, Markdown (default: soap when the note builder is installed)")
    p.add_argument("--format", dest="input_format", default=None,
                   choices=("csv", "annomi", "text", "json", "jsonl", "vtt", "srt"),
                   help="transcript format of every input (default: detect per file)")
    p.add_argument("--therapist", action="append", default=[], metavar="NAME",
                   help="speaker name that is the therapist (repeatable; a manifest 'therapist' column overrides)")
    p.add_argument("--retry-failed", action="store_true",
                   help="retry inputs that failed in an earlier run for a reason in the input itself")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    add_model_options(p)
    _add_audio_options(p)
    p.set_defaults(handler=run)


def _add_audio_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("audio (recordings in the input; --device applies too)")
    g.add_argument("--asr-model", metavar="NAME_OR_DIR", help="CTranslate2 Whisper model directory or size name "
                   "(default: bundled tiny.en)")
    g.add_argument("--compute-type", help="CTranslate2 compute type (default: int8 on CPU, float16 on CUDA)")
    g.add_argument("--beam-size", type=int, default=5)
    g.add_argument("--language", default="en", help="spoken language code, or 'auto' (multilingual models only)")
    g.add_argument("--num-speakers", type=int, help="exact number of speakers (default: detected, 2-4)")
    g.add_argument("--channels", choices=("auto", "mix", "split"), default="auto",
                   help="split: one speaker per stereo channel; mix: diarize by voice; auto: decide per file")
    g.add_argument("--role-model", metavar="DIR", help="role model directory (default: models/roles)")


def audio_options(args: argparse.Namespace) -> dict:
    """TranscribeOptions fields from the arguments (per-input session id and therapist come from the manifest)."""
    return {"asr_model": args.asr_model, "device": args.device, "compute_type": args.compute_type,
            "beam_size": args.beam_size, "language": None if args.language in (None, "auto") else args.language,
            "num_speakers": args.num_speakers, "channels": args.channels, "role_model": args.role_model}


def run(args: argparse.Namespace) -> int:
    from tagger.batch import BatchOptions, run_batch

    options = BatchOptions(
        input=args.input, outdir=args.outdir,
        pipeline=pipeline_config(args, input_format=args.input_format, therapist_names=tuple(args.therapist)),
        audio=audio_options(args), engine=args.engine, workers=args.workers, group_size=args.group_size,
        note=None if args.note == "none" else args.note, retry_failed=args.retry_failed,
        ray_address=args.ray_address, progress=not args.quiet,
    )
    report = run_batch(options)
    if not args.quiet:
        rate = 3600 * report.tagged / report.seconds if report.seconds and report.tagged else 0.0
        print(f"tagger batch: {report.inputs} input(s): {report.tagged} tagged now, {report.already_done} already "
              f"done, {report.failed} failed; {report.sessions} sessions, {report.utterances} utterances in "
              f"{args.outdir}/dataset.parquet (model {report.model} {report.model_version}, {report.engine} engine, "
              f"{report.seconds:.0f} s" + (f", {rate:.0f} inputs/h" if rate else "") + ")", file=sys.stderr)
        if report.ignored:
            print(f"tagger batch: ignored {report.ignored} file(s) that are neither transcripts nor recordings",
                  file=sys.stderr)
        if report.failed:
            print(f"tagger batch: {report.failed} input(s) failed; reasons in {args.outdir}/errors.csv",
                  file=sys.stderr)
    return 0 if report.ok else 1
