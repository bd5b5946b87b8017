"""``tagger train``: reproduce the shipped classifier from AnnoMI + the authored corpus."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from tagger.classify.artifact import DEFAULT_MODEL_DIR
from tagger.classify.base_model import DEFAULT_BASE


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="fine-tune the intervention classifier and write a model artifact + card")
    p.add_argument(
        "-o", "--out", type=Path, default=DEFAULT_MODEL_DIR, help="output model directory (default: the shipped model)"
    )
    p.add_argument(
        "--annomi",
        type=Path,
        default=None,
        help="AnnoMI-full.csv (default: ../shared/data/annomi or $TAGGER_ANNOMI_DIR)",
    )
    p.add_argument(
        "--authored", type=Path, default=None, help="folder of authored session CSVs (default: training/data/authored)"
    )
    p.add_argument("--no-annomi", action="store_true", help="train without AnnoMI")
    p.add_argument("--no-authored", action="store_true", help="train without the authored corpus")
    p.add_argument(
        "--base-model", default=DEFAULT_BASE, help="base encoder: a local HF model directory or a packaged name"
    )
    p.add_argument(
        "--num-layers", type=int, default=None, help="keep only the first N encoder layers (faster, smaller)"
    )
    p.add_argument(
        "--lora-layers", type=int, default=None, help="adapters on the top N encoder layers only (default: all)"
    )
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--lora-r", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=96)
    p.add_argument(
        "--ema", type=float, default=None, help="keep an exponential moving average of the weights with this decay"
    )
    p.add_argument(
        "--risk-aux",
        type=float,
        default=0.0,
        metavar="W",
        help="train a second risk head that reads each utterance alone (before the session layer) with W times "
        "the risk loss, so the encoder learns risk from what the client says, not from the therapist's reaction; "
        "it ships, its logit mixed into the risk head's with a weight fitted on calib",
    )
    p.add_argument(
        "--reaction-swap",
        type=float,
        default=0.0,
        metavar="P",
        help="with probability P per training window, train on the session with the therapist's risk talk "
        "(risk_assessment, safety_planning turns) swapped for ordinary therapist turns from elsewhere, so risk "
        "is read from what the client says (default 0: never)",
    )
    p.add_argument(
        "--corpus-weight",
        action="append",
        default=[],
        metavar="NAME=W",
        help="weigh one corpus's utterances W times in the loss (annomi or authored; repeatable; default 1)",
    )
    p.add_argument(
        "--balanced-fusion",
        action="store_true",
        help="fit the lexical fusion weights with each corpus's calib sessions counting once "
        "(default: pooled calib rows, where the larger corpus decides)",
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="no TF-IDF + logistic-regression model: neither reported as the baseline nor fused (network only)",
    )
    p.set_defaults(handler=run)


def _corpus_weight(text: str) -> tuple[str, float]:
    from tagger.errors import InputError

    name, sep, value = text.partition("=")
    try:
        weight = float(value)
    except ValueError:
        weight = float("nan")
    if not sep or not name or weight != weight:
        raise InputError(f"--corpus-weight {text!r}: expected NAME=NUMBER, e.g. annomi=2")
    return name, weight


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tagger.errors import InputError
    from tagger.training.data import SPLITS_DIR, load_annomi, load_authored
    from tagger.training.run import train_model
    from tagger.training.trainer import TrainConfig

    corpora = []
    if not args.no_annomi:
        corpora.append(load_annomi(args.annomi, SPLITS_DIR / "annomi.json" if args.annomi is None else None, args.seed))
    if not args.no_authored:
        if args.authored is None:
            corpora.append(load_authored(seed=args.seed))
        else:
            corpora.append(load_authored(args.authored, None, args.seed))
    if not corpora:
        raise InputError("nothing to train on: drop --no-annomi or --no-authored")
    cfg = TrainConfig(
        base_model=args.base_model,
        num_layers=args.num_layers,
        epochs=args.epochs,
        seed=args.seed,
        lora_r=args.lora_r,
        lora_layers=args.lora_layers,
        max_tokens=args.max_tokens,
        ema=args.ema,
        corpus_weights=tuple(_corpus_weight(x) for x in args.corpus_weight),
        risk_aux=args.risk_aux,
        balanced_fusion=args.balanced_fusion,
        reaction_swap=args.reaction_swap,
    )
    bar = tqdm(total=None, desc="train", unit="step", file=sys.stderr, disable=None)

    t_start = time.monotonic()
    last_stage = [""]

    def progress(stage: str, step: int, total: int) -> None:
        bar.total = total
        bar.set_description(stage)
        bar.n = step
        bar.refresh()
        if bar.disable and stage != last_stage[0]:  # no terminal (a log file): one line per stage
            last_stage[0] = stage
            print(f"{stage} from step {step}/{total}, {time.monotonic() - t_start:.0f} s", file=sys.stderr, flush=True)

    # recorded in the model card: the options as typed after `tagger train`
    given = sys.argv[sys.argv.index("train") + 1 :] if "train" in sys.argv else []
    command = " ".join(["tagger", "train", *(shlex.quote(a) for a in given)])
    result = train_model(corpora, cfg, args.out, baseline=not args.no_baseline, progress=progress, command=command)
    bar.close()
    print(f"wrote {result.model_dir} in {result.seconds:.0f} s")
    for corpus, m in result.metrics.items():
        keys = [k for k in ("main_behaviour_macro_f1", "client_talk_macro_f1", "therapist_macro_f1") if k in m]
        print(
            corpus,
            " ".join(
                f"{k}={m[k]:.3f} (baseline {result.baseline_metrics.get(corpus, {}).get(k, float('nan')):.3f})"
                for k in keys
            ),
        )
    return 0
