"""Dynamic vs static int8 for the shipped encoder: speed, fidelity to float32, batch invariance.

    python eval/bench/bench_quantization.py [--texts 2000] [--calib 512] [--repeat 2]

``tagger tag`` runs the encoder as ONNX with *dynamic* int8 quantization: activation scales are
computed per batch, so a text's vector depends a little on its batch mates. *Static* int8 fixes the
activation scales from a calibration set (here ``--calib`` AnnoMI utterances, disjoint from the
measured ones; MinMax, QDQ, MatMuls only), which makes the output batch-invariant. This prints, for
the float32, dynamic and static graphs: texts/s (length-sorted batches of 64, interleaved, best of
``--repeat``), cosine similarity of the pooled vectors to float32, and the largest change of a
vector between encoding a batch and encoding its texts one by one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_classifier import load_sessions  # noqa: E402

from tagger.classify import load_classifier  # noqa: E402
from tagger.classify.backends import OnnxEncoder, cache_dir, export_onnx, onnx_cache_key  # noqa: E402
from tagger.classify.base_model import weights_digest  # noqa: E402
from tagger.classify.batching import length_batches, pad_ids, tokenize  # noqa: E402


def batches(tokenizer, texts: list[str], size: int, max_tokens: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The engine's own tokenization and padding, in length-sorted batches of ``size`` (no token budget)."""
    seqs = tokenize(tokenizer, texts, max_tokens)
    lengths = np.fromiter((len(s) for s in seqs), np.int64, len(seqs))
    return [pad_ids([seqs[i] for i in idx]) for idx in length_batches(lengths, size, 10**9)]


def static_int8(fp32: Path, out: Path, calib: list[tuple[np.ndarray, np.ndarray]]) -> Path:
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(calib)

        def get_next(self):
            b = next(self.it, None)
            return None if b is None else {"input_ids": b[0], "attention_mask": b[1]}

    quantize_static(
        str(fp32),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        weight_type=QuantType.QInt8,
        activation_type=QuantType.QUInt8,
        calibrate_method=CalibrationMethod.MinMax,
        op_types_to_quantize=["MatMul"],
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=int, default=2000)
    ap.add_argument("--calib", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    clf = load_classifier()
    max_tokens = clf.config.max_tokens
    texts = [u.text for s in load_sessions(args.texts + args.calib) for u in s.utterances]
    np.random.default_rng(0).shuffle(texts)
    calib, test = texts[: args.calib], texts[args.calib : args.calib + args.texts]
    key = onnx_cache_key(clf.model.artifact_dir, weights_digest(clf.model.base_dir))
    cached = cache_dir() / "onnx" / key
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"fp32": cached / "encoder.fp32.onnx", "dynamic": cached / "encoder.int8.onnx"}
        for name, path in paths.items():
            if not path.is_file():
                export_onnx(clf.model.encoder, path, quantize=name == "dynamic")
        calib_batches = batches(clf.tokenizer, calib, 32, max_tokens)
        paths["static"] = static_int8(paths["fp32"], Path(tmp) / "encoder.static.onnx", calib_batches)
        encoders = {name: OnnxEncoder(path) for name, path in paths.items()}
        test_batches = batches(clf.tokenizer, test, 64, max_tokens)
        best = dict.fromkeys(encoders, float("inf"))
        vectors = {}
        for _ in range(args.repeat):
            for name, enc in encoders.items():
                t = time.perf_counter()
                vectors[name] = torch.cat([enc(ids, mask) for ids, mask in test_batches])
                best[name] = min(best[name], time.perf_counter() - t)
        print(f"{len(test)} AnnoMI utterances, batches of 64, best of {args.repeat}")
        for name, enc in encoders.items():
            cos = torch.nn.functional.cosine_similarity(vectors[name], vectors["fp32"])
            ids, mask = test_batches[len(test_batches) // 2]
            together = enc(ids, mask)
            alone = []
            for k in range(len(ids)):
                n = int(mask[k].sum())
                alone.append(enc(ids[k : k + 1, :n], mask[k : k + 1, :n]))
            drift = (together - torch.cat(alone)).abs().max().item()
            print(
                f"{name:8s} {len(test) / best[name]:6.0f} texts/s  cosine to fp32 mean {cos.mean():.4f} "
                f"min {cos.min():.4f}  batch vs alone max |diff| {drift:.2g}"
            )


if __name__ == "__main__":
    main()
