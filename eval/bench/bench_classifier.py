"""Classifier throughput, side by side in one run: naive HF pipeline vs fixed-padding batches vs tagger's engine.

    python eval/bench/bench_classifier.py [--utterances 2000] [--model DIR] [--device cpu|cuda]

All systems run the same encoder weights (the shipped adapter merged into MiniLM) on the same
utterances; the naive baseline is ``transformers.pipeline("text-classification")`` called one
utterance at a time. Prints utterances/s, ratios against the naive baseline, and machine info.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch


def load_sessions(n_utts: int):
    from tagger.io.labeled import default_annomi_dir
    from tagger.io.readers import read_transcript

    annomi = default_annomi_dir() / "AnnoMI-simple.csv"
    if annomi.is_file():
        sessions = read_transcript(annomi)
    else:
        root = Path(__file__).resolve().parents[2] / "training" / "data" / "authored"
        sessions = [s for f in sorted(root.glob("s*.csv")) for s in read_transcript(f)]
    out, total = [], 0
    while total < n_utts:
        for s in sessions:
            out.append(s)
            total += len(s.utterances)
            if total >= n_utts:
                break
    return out


def timed(fn, repeat: int = 1) -> float:
    fn()  # warm-up (also builds caches)
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=2000)
    ap.add_argument("--naive-utterances", type=int, default=300, help="the naive baseline is slow: time it on fewer")
    ap.add_argument("--model", default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()

    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline

    from tagger.classify import EngineOptions, load_classifier

    sessions = load_sessions(args.utterances)
    texts = [u.text for s in sessions for u in s.utterances]
    n = len(texts)
    results: dict[str, float] = {}

    ours = {}
    backends = ["onnx", "torch"] if args.device == "cpu" else ["torch"]
    for be in backends:
        clf = load_classifier(args.model, options=EngineOptions(backend=be, device=args.device))
        ours[be] = clf
        results[f"tagger engine ({clf.backend_name}, length-sorted dynamic padding)"] = n / timed(
            lambda c=clf: c.scores(sessions), 2
        )

    clf = ours["torch"]
    tok = AutoTokenizer.from_pretrained(str(clf.model.base_dir))
    enc = clf.model.encoder.to(args.device)
    max_tokens = clf.config.max_tokens

    @torch.inference_mode()
    def fixed_padding() -> None:
        for b in range(0, n, 64):
            x = tok(
                texts[b : b + 64], truncation=True, max_length=max_tokens, padding="max_length", return_tensors="pt"
            ).to(args.device)
            with torch.autocast(args.device, dtype=torch.bfloat16, enabled=args.device == "cuda"):
                h = enc(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).last_hidden_state
            (h * x["attention_mask"].unsqueeze(-1)).sum(1).cpu()

    results["batched fixed padding (torch, batch 64, pad to max)"] = n / timed(fixed_padding)

    cfg = BertConfig.from_pretrained(str(clf.model.base_dir), num_labels=len(clf.config.therapist_labels))
    hf = BertForSequenceClassification(cfg)
    hf.bert.load_state_dict(enc.state_dict(), strict=False)
    hf.eval()
    pipe = pipeline(
        "text-classification", model=hf, tokenizer=tok, device=0 if args.device == "cuda" else -1, top_k=None
    )
    few = texts[: args.naive_utterances]

    def naive() -> None:
        for t in few:
            pipe(t, truncation=True, max_length=max_tokens)

    naive_rate = len(few) / timed(naive)
    results['naive HF pipeline("text-classification"), one utterance at a time'] = naive_rate

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus visible, "
        f"torch {torch.__version__} threads {torch.get_num_threads()}, device {args.device}"
        + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else "")
    )
    print(
        f"utterances: {n} (naive baseline timed on {len(few)}), "
        f"mean {np.mean([len(t.split()) for t in texts]):.1f} words"
    )
    print(f"{'system':78s} {'utt/s':>9s} {'x naive':>8s}")
    for name, rate in results.items():
        print(f"{name:78s} {rate:9.1f} {rate / naive_rate:8.1f}")


if __name__ == "__main__":
    main()
