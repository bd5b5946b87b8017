"""Evidence sentences pooled from their turn's encoding vs encoded on their own, runs interleaved.

    python eval/bench/bench_sentences.py [--utterances 3000] [--repeat 3] [--backend onnx]

Both settings (``EngineOptions.pooled_sentences``) tag the same AnnoMI sessions with the default
sentence segmenter, in turn, ``--repeat`` times; the best time of each is reported, so a drift in the
machine's speed hits both alike. Also printed: how often the two agree on a turn's codes and on the
evidence sentence of a code both give (the sentence vectors differ, so the choice may too).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_classifier import load_sessions  # noqa: E402

from tagger.classify import EngineOptions, load_classifier  # noqa: E402
from tagger.segment import Segmenter  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--backend", default="onnx")
    args = ap.parse_args()
    sessions = load_sessions(args.utterances)
    n = sum(len(s.utterances) for s in sessions)
    segmenter = Segmenter()
    clfs = {
        mode: load_classifier(options=EngineOptions(backend=args.backend, pooled_sentences=mode == "pooled"))
        for mode in ("pooled", "encoded")
    }
    for c in clfs.values():
        c.tag_sessions(sessions[:5], segmenter=segmenter)  # warm-up (ONNX cache, spaCy)
    for s in sessions:
        segmenter(s)  # spaCy's own warm-up; the segmenter runs inside the timing below
    best = dict.fromkeys(clfs, float("inf"))
    out = {}
    for _ in range(args.repeat):
        for mode, clf in clfs.items():
            t = time.perf_counter()
            out[mode] = clf.tag_sessions(sessions, segmenter=segmenter)
            best[mode] = min(best[mode], time.perf_counter() - t)
    same_codes = pairs = same_evidence = 0
    for a, b in zip(out["pooled"], out["encoded"], strict=True):
        for x, y in zip(a, b, strict=True):
            same_codes += x.codes == y.codes
            for code in set(x.evidence) & set(y.evidence):
                pairs += 1
                same_evidence += x.evidence[code] == y.evidence[code]
    print(f"{n} utterances, {len(sessions)} sessions, backend {clfs['pooled'].backend_name}, best of {args.repeat}")
    for mode in clfs:
        print(f"sentences {mode}: {n / best[mode]:.0f} utt/s")
    print(f"pooled / encoded: {best['encoded'] / best['pooled']:.2f}x")
    agree = same_evidence / max(pairs, 1)
    print(f"same codes: {same_codes / n:.3f} of utterances; same evidence sentence: {agree:.3f} of {pairs}")


if __name__ == "__main__":
    main()
