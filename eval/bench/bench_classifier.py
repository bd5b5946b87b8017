"""Classifier throughput, side by side in one run: naive HF pipeline vs fixed-padding batches vs tagger's engine.

    python eval/bench/bench_classifier.py [--utterances 2000] [--model DIR] [--device cpu|cuda] [--json OUT]

All systems run the same encoder weights (the shipped adapter merged into MiniLM) on the same
utterances; the naive baseline is ``transformers.pipeline("text-classification")`` called one
utterance at a time. Prints utterances/s, ratios against the naive baseline, and machine info.
``run(...)`` returns the same figures as a dict (``eval/bench/run_all.py`` uses it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
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
        sessions = [s for f in sorted(root.glob("s[0-9]*.csv")) for s in read_transcript(f)]  # not sessions.csv
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


def run(utterances: int = 2000, naive_utterances: int = 300, model: str | None = None, device: str = "cpu") -> dict:
    """Time every system on the same utterances; utterances/s and the ratio to the naive baseline."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, pipeline

    from tagger.classify import EngineOptions, load_classifier

    sessions = load_sessions(utterances)
    texts = [u.text for s in sessions for u in s.utterances]
    n = len(texts)
    results: dict[str, float] = {}

    ours = {}
    backends = ["onnx", "torch"] if device == "cpu" else ["torch"]
    for be in backends:
        clf = load_classifier(model, options=EngineOptions(backend=be, device=device))
        ours[be] = clf
        results[f"tagger engine ({clf.backend_name}, length-sorted dynamic padding)"] = n / timed(
            lambda c=clf: c.scores(sessions), 2
        )

    clf = ours["torch"]
    tok = AutoTokenizer.from_pretrained(str(clf.model.base_dir))
    enc = clf.model.encoder.to(device)
    max_tokens = clf.config.max_tokens

    @torch.inference_mode()
    def fixed_padding() -> None:
        for b in range(0, n, 64):
            x = tok(
                texts[b : b + 64], truncation=True, max_length=max_tokens, padding="max_length", return_tensors="pt"
            ).to(device)
            with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
                h = enc(input_ids=x["input_ids"], attention_mask=x["attention_mask"]).last_hidden_state
            (h * x["attention_mask"].unsqueeze(-1)).sum(1).cpu()

    results[f"batched fixed padding (torch, batch 64, pad to {max_tokens} tokens)"] = n / timed(fixed_padding)

    cfg = BertConfig.from_pretrained(str(clf.model.base_dir), num_labels=len(clf.config.therapist_labels))
    hf = BertForSequenceClassification(cfg)
    hf.bert.load_state_dict(enc.state_dict(), strict=False)
    hf.eval()
    pipe = pipeline("text-classification", model=hf, tokenizer=tok, device=0 if device == "cuda" else -1, top_k=None)
    # an even sample over the whole set, so the baseline sees the same mix of short and long turns
    few = texts[:: max(1, n // naive_utterances)][:naive_utterances]

    def naive() -> None:
        for t in few:
            pipe(t, truncation=True, max_length=max_tokens)

    naive_rate = len(few) / timed(naive)
    results['naive HF pipeline("text-classification"), one utterance at a time'] = naive_rate
    return {
        "device": device + (f" ({torch.cuda.get_device_name()})" if device == "cuda" else ""),
        "model": str(clf.model.artifact_dir),
        "torch_threads": torch.get_num_threads(),
        "utterances": n,
        "naive_utterances": len(few),
        "mean_words": round(float(np.mean([len(t.split()) for t in texts])), 1),
        "naive_mean_words": round(float(np.mean([len(t.split()) for t in few])), 1),
        "systems": [
            {"system": name, "utt_per_s": round(rate, 1), "x_naive": round(rate / naive_rate, 1)}
            for name, rate in results.items()
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, default=2000)
    ap.add_argument(
        "--naive-utterances", type=int, default=300, help="the naive baseline is slow: time it on an even sample"
    )
    ap.add_argument("--model", default=None)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures and machine info here")
    args = ap.parse_args()

    r = run(args.utterances, args.naive_utterances, args.model, args.device)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpus visible, "
        f"torch {torch.__version__} threads {r['torch_threads']}, device {r['device']}"
    )
    print(
        f"utterances: {r['utterances']}, mean {r['mean_words']} words (naive baseline timed on an even sample of "
        f"{r['naive_utterances']}, mean {r['naive_mean_words']} words)"
    )
    print(f"{'system':78s} {'utt/s':>9s} {'x naive':>8s}")
    for row in r["systems"]:
        print(f"{row['system']:78s} {row['utt_per_s']:9.1f} {row['x_naive']:8.1f}")
    if args.json:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from machine import machine_info

        args.json.write_text(json.dumps({"machine": machine_info(), "classifier": r}, indent=1) + "\n")


if __name__ == "__main__":
    main()
