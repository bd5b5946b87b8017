"""CPU engine throughput by padding cap (``EngineOptions.max_padding``), runs interleaved.

    python eval/bench/bench_padding.py [--utterances 3000] [--caps none,0.25,0.1,0.05] [--repeat 4]

Every cap runs the same AnnoMI sessions on the ONNX int8 backend, in turn, ``--repeat`` times; the
best time of each is reported, so a drift in the machine's speed hits every setting alike.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_classifier import load_sessions  # noqa: E402

from tagger.classify import EngineOptions, load_classifier  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=3000)
    ap.add_argument("--caps", default="none,0.25,0.1,0.05", help="comma-separated caps; none: no cap")
    ap.add_argument("--repeat", type=int, default=4)
    args = ap.parse_args()
    sessions = load_sessions(args.utterances)
    n = sum(len(s.utterances) for s in sessions)
    caps = [float("inf") if a == "none" else float(a) for a in args.caps.split(",")]
    clfs = {c: load_classifier(options=EngineOptions(backend="onnx", max_padding=c)) for c in caps}
    for c in clfs.values():
        c.scores(sessions[:5])  # warm-up (and the ONNX cache)
    best = dict.fromkeys(caps, float("inf"))
    for _ in range(args.repeat):
        for cap, clf in clfs.items():
            t = time.perf_counter()
            clf.scores(sessions)
            best[cap] = min(best[cap], time.perf_counter() - t)
    for cap in caps:
        print(f"max_padding {'none' if cap == float('inf') else cap}: {n / best[cap]:.0f} utt/s ({n} utterances)")


if __name__ == "__main__":
    main()
