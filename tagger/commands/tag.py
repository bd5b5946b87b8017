"""``tagger tag INPUT -o OUT.jsonl``: tag a transcript, one JSON object per utterance, in input order."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_model_options(p: argparse.ArgumentParser, device: bool = True) -> None:
    p.add_argument("--model", default=None, help="model directory (default: the shipped models/tagger-minilm)")
    p.add_argument("--base-model", default=None, help="local directory of the base encoder, if not the PyPI package")
    p.add_argument(
        "--backend",
        default="auto",
        choices=("auto", "torch", "onnx", "onnx-fp32"),
        help="auto: CUDA (bf16) when a GPU is visible, else ONNX Runtime int8 on the CPU",
    )
    if device:
        p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all available cores)")
    p.add_argument(
        "--no-evidence-sentences",
        action="store_true",
        help="do not re-score long turns sentence by sentence (faster; no evidence sentence per code)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tag", help="tag a transcript (csv, AnnoMI csv, txt, json, jsonl, vtt, srt) -> JSONL")
    p.add_argument("input", type=Path, help="transcript file")
    p.add_argument("-o", "--output", default="-", help="output JSONL file, or - for stdout (default)")
    p.add_argument(
        "--format",
        dest="input_format",
        default=None,
        choices=("csv", "annomi", "text", "json", "jsonl", "vtt", "srt"),
        help="input format (default: detect)",
    )
    p.add_argument(
        "--therapist",
        action="append",
        default=[],
        metavar="NAME",
        help="speaker name that is the therapist (repeatable); other named speakers are clients",
    )
    add_model_options(p)
    p.set_defaults(handler=run)


def pipeline_config(args: argparse.Namespace, **extra):
    from tagger.pipeline import PipelineConfig

    return PipelineConfig(
        model_dir=args.model,
        base_model=args.base_model,
        backend=args.backend,
        device=args.device,
        threads=args.threads,
        evidence_sentences=not args.no_evidence_sentences,
        **extra,
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tagger.io.writers import atomic_writer, jsonl_lines
    from tagger.pipeline import Pipeline

    pipe = Pipeline(pipeline_config(args, input_format=args.input_format, therapist_names=tuple(args.therapist)))
    sessions = pipe.read(args.input)  # read (and validate) before loading any model
    total = sum(len(s.utterances) for s in sessions)
    with tqdm(total=total, desc="tag", unit="utt", file=sys.stderr, disable=None if total >= 200 else True) as bar:

        def progress(stage: str, done: int, n: int) -> None:
            bar.n = min(done, total)
            bar.refresh()

        with atomic_writer(args.output) as fh:
            for r in pipe.tag_iter(sessions, progress):  # group by group: memory stays flat
                fh.writelines(jsonl_lines(r.tagged))
    if args.output != "-":
        print(
            f"tagged {total} utterances in {len(sessions)} session(s) -> {args.output} "
            f"(model {pipe.run_info.model_name}, {pipe.run_info.backend})",
            file=sys.stderr,
        )
    return 0
