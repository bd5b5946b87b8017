"""``tagger eval``: score predictions (or a model) against gold labels and write a report.

    tagger eval --gold AnnoMI-full.csv --split dev --splits training/splits/annomi.json \\
        --pred a.jsonl --pred b.jsonl -o reports/annomi-dev
    tagger eval --gold training/data/authored --model models/tagger-minilm -o reports/authored
    tagger eval --reference session.csv --pred audio-run.jsonl -o reports/asr
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from tagger.errors import InputError, ModelError
from tagger.evaluation.align import read_predictions
from tagger.evaluation.harness import evaluate
from tagger.evaluation.report import f3, write_report
from tagger.evaluation.results import AsrResult, EvalOptions, Evaluation
from tagger.evaluation.wer import score_sessions
from tagger.io.labeled import LabeledSession, read_labeled
from tagger.types import TaggedUtterance


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "eval",
        help="score predictions against gold labels and write a Markdown/HTML/JSON report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--gold", type=Path, help="gold file or folder: AnnoMI CSV (simple/full), codes CSV, or project JSONL"
    )
    p.add_argument("--gold-format", choices=("annomi", "codes", "jsonl"), help="gold format (default: detected)")
    p.add_argument(
        "--also-gold",
        type=Path,
        action="append",
        default=[],
        metavar="PATH",
        help="another annotator's labels of the same transcripts (repeatable): adds the human ceiling, "
        "annotator vs annotator next to each system vs every annotator",
    )
    p.add_argument(
        "--pred",
        type=Path,
        action="append",
        default=[],
        metavar="PRED.jsonl",
        help="predictions from `tagger tag` (repeat to compare systems)",
    )
    p.add_argument(
        "--name", action="append", default=[], help="display name of each --pred, in order (default: file stem)"
    )
    p.add_argument(
        "--model",
        nargs="?",
        const="",
        default=None,
        metavar="DIR",
        help="tag the gold transcripts with this model (no DIR: the default model) and score it too",
    )
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="REPORT_DIR",
        help="folder for report.md/.html/.json and plots/",
    )
    p.add_argument("--split", help="score only this split's sessions (e.g. dev); needs --splits")
    p.add_argument("--splits", type=Path, help="split file: JSON with a list of session ids per split name")
    p.add_argument("--partial", action="store_true", help="score only the gold sessions that the predictions cover")
    p.add_argument(
        "--reference", type=Path, help="reference transcript for audio runs: WER and speaker-attribution error"
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="session bootstrap resamples for CIs (0: none; default 1000)",
    )
    p.add_argument("--seed", type=int, default=13, help="bootstrap seed (default 13)")
    p.add_argument("--bins", type=int, default=10, help="calibration bins (default 10)")
    p.set_defaults(handler=run)


def _select_split(gold: list[LabeledSession], split: str | None, splits: Path | None) -> list[LabeledSession]:
    if split is None and splits is None:
        return gold
    if split is None or splits is None:
        raise InputError("--split and --splits go together: e.g. --split dev --splits training/splits/annomi.json")
    if not splits.is_file():
        raise InputError(f"{splits}: no such split file")
    data = json.loads(splits.read_text(encoding="utf-8"))
    ids = data.get(split) if isinstance(data, dict) else None
    if not isinstance(ids, list):
        names = [k for k, v in data.items() if isinstance(v, list)] if isinstance(data, dict) else []
        raise InputError(f"{splits}: no split named {split!r}; it has {', '.join(names) or 'no id lists'}")
    wanted = {str(i) for i in ids}
    chosen = [g for g in gold if g.session_id in wanted]
    unknown = sorted(wanted - {g.session_id for g in gold})
    if unknown:
        raise InputError(
            f"{splits}: split {split!r} names sessions not in the gold: {', '.join(unknown[:8])}; "
            "is it the split of this gold file?"
        )
    return chosen


def with_other_annotators(
    gold: list[LabeledSession], others: Sequence[tuple[str, list[LabeledSession]]]
) -> list[LabeledSession]:
    """The gold sessions with every annotator's labels: the gold's own (``gold``, or its annotators
    when it has several) and each named other file's, for the sessions that file covers."""
    by_name = {name: {ls.session_id: ls for ls in other} for name, other in others}
    if not any(g.session_id in b for g in gold for b in by_name.values()):
        raise InputError("--also-gold covers none of the gold sessions: are they labels of the same transcripts?")
    out = []
    for g in gold:
        anns = dict(g.annotations) or {"gold": g.labels}
        for name, b in by_name.items():
            other = b.get(g.session_id)
            if other is None:
                continue
            if [u.utterance_id for u in other.session.utterances] != [u.utterance_id for u in g.session.utterances]:
                raise InputError(
                    f"--also-gold {name}: session {g.session_id} does not have the gold's utterance ids; "
                    "both annotators must label the same utterances"
                )
            anns[name] = other.labels
        out.append(replace(g, annotations=anns) if len(anns) > 1 else g)
    return out


def _names(paths: Sequence[Path], given: Sequence[str]) -> list[str]:
    if given and len(given) != len(paths):
        raise InputError(f"{len(given)} --name for {len(paths)} --pred: give one name per prediction file, in order")
    names = list(given) or [p.stem for p in paths]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


def _predict(model: str, gold: list[LabeledSession], out_dir: Path) -> tuple[str, list[TaggedUtterance]]:
    try:
        from tagger.pipeline import Pipeline, PipelineConfig  # heavy: imported only when --model is used
    except ImportError as exc:
        raise ModelError(f"--model needs the classifier (tagger.pipeline), which is not available: {exc}") from exc
    # the same path as `tagger tag` (default backend, long turns also scored per sentence)
    pipe = Pipeline(PipelineConfig(model_dir=model or None))
    tagged = [t for r in pipe.tag_iter([g.session for g in gold]) for t in r.tagged]
    name = f"model-{Path(model).name}" if model else "model"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"predictions-{name}.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for t in tagged:
            fh.write(json.dumps(t.to_record(), ensure_ascii=False) + "\n")
    return name, tagged


def run(args: argparse.Namespace) -> int:
    if args.gold is None and args.reference is None:
        raise InputError(
            "nothing to score against: pass --gold (labels) and/or --reference (transcript for audio runs)"
        )
    if not args.pred and args.model is None:
        raise InputError("nothing to score: pass --pred PRED.jsonl (from `tagger tag`) or --model [DIR]")
    if args.model is not None and args.gold is None:
        raise InputError("--model tags the gold transcripts: pass --gold too")
    options = EvalOptions(n_resamples=args.bootstrap, seed=args.seed, n_bins=args.bins)
    preds = {n: read_predictions(p) for n, p in zip(_names(args.pred, args.name), args.pred, strict=True)}
    sources = {n: str(p) for n, p in zip(preds, args.pred, strict=True)}
    ev = Evaluation(gold=None, n_gold_sessions=0, options=options, systems=())
    if args.gold is not None:
        gold = _select_split(read_labeled(args.gold, fmt=args.gold_format), args.split, args.splits)
        if args.also_gold:
            names = _names(args.also_gold, [])
            gold = with_other_annotators(
                gold, [(n, read_labeled(p, fmt=args.gold_format)) for n, p in zip(names, args.also_gold, strict=True)]
            )
        if not gold:
            raise InputError(f"{args.gold}: no gold sessions to score")
        if args.model is not None:
            name, tagged = _predict(args.model, gold, args.output)
            preds[name] = tagged
            sources[name] = f"model {args.model or '(default)'}"
        gold_name = str(args.gold) + (f" (split {args.split})" if args.split else "")
        ev = evaluate(gold, preds, gold_name=gold_name, sources=sources, options=options, partial=args.partial)
    if args.reference is not None:
        from tagger.io.readers import read_transcript

        ref = read_transcript(args.reference)
        asr = tuple(
            AsrResult(n, str(args.reference), score_sessions(ref, [t.utterance for t in p])) for n, p in preds.items()
        )
        ev = replace(ev, asr=asr)
    files = write_report(ev, args.output)
    for r in ev.systems:
        th = next((a for a in r.averages if a.group == "therapist"), None)
        mb = r.main_behaviour
        print(
            f"{r.name}: therapist micro-F1 {f3(th.micro_f1 if th else None)}, "
            f"macro-F1 {f3(th.macro_f1 if th else None)}; "
            f"main behaviour macro-F1 {f3(mb.macro_f1 if mb else None)}"
        )
    for a in ev.asr:
        print(f"{a.name}: WER {f3(a.scores.wer)}, speaker-attribution error {f3(a.scores.speaker_error_rate)}")
    print(f"report: {files.markdown} {files.html} {files.json}", file=sys.stdout)
    return 0
