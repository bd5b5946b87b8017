"""Encoder backends: PyTorch (CPU fp32, CUDA bf16) and ONNX Runtime int8 for the CPU fast path.

The ONNX graph (encoder with LoRA merged, mean pooling included) is derived at first use and
cached outside the repository, keyed by the artifact and base weights, then quantized to int8.

Every backend is called as ``encoder(ids, mask, spans=())``: one mean-pooled vector per row, then
one per requested token span ``(row, start, stop)``, the mean of that row's token states over the
span (a sentence of a turn, pooled inside the turn's own encoding; see ``Classifier.tag_sessions``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from tagger.classify.net import mean_pool
from tagger.errors import ModelError

Span = tuple[int, int, int]  # (row of the batch, first token, token after the last)


def span_means(states: torch.Tensor, spans: Sequence[Span]) -> torch.Tensor:
    """(len(spans), H): the mean of each span's token states."""
    return torch.stack([states[r, a:b].mean(0) for r, a, b in spans])


def cache_dir() -> Path:
    root = os.environ.get("TAGGER_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tagger"
    )
    return Path(root)


class TorchEncoder:
    """Pooled vectors from the merged PyTorch encoder; bf16 autocast on CUDA."""

    name = "torch"

    def __init__(self, encoder: nn.Module, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.encoder = encoder.to(self.device).eval()
        self.autocast = self.device.type == "cuda"
        if self.device.type == "cuda":
            self.name = "torch-cuda-bf16"

    @torch.inference_mode()
    def __call__(self, ids: np.ndarray, mask: np.ndarray, spans: Sequence[Span] = ()) -> torch.Tensor:
        """Pooled vectors (then span vectors), left on the device: on CUDA nothing here waits for the GPU,
        so the host pads the next batch while this one runs (``encode_all`` copies everything back once)."""
        i, m = torch.from_numpy(ids), torch.from_numpy(mask)
        if self.device.type == "cuda":  # page-locked host memory makes the copies asynchronous
            i, m = i.pin_memory(), m.pin_memory()
        i, m = i.to(self.device, non_blocking=True), m.to(self.device, non_blocking=True)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
            out = self.encoder(input_ids=i, attention_mask=m).last_hidden_state.float()
        pooled = mean_pool(out, m)
        return torch.cat([pooled, span_means(out, spans)]) if spans else pooled


class _Pooled(nn.Module):
    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        return mean_pool(states, attention_mask), states


# Bump when the exported graph changes, so stale cached graphs are re-derived.
ONNX_EXPORT_VERSION = "3"  # 3: token states are an output too (sentence spans)


def onnx_cache_key(artifact_dir: Path, base_digest: str) -> str:
    h = hashlib.sha256(f"{ONNX_EXPORT_VERSION}:{base_digest}".encode())
    for name in ("adapter.safetensors", "config.json"):
        h.update((artifact_dir / name).read_bytes())
    return h.hexdigest()[:20]


def export_onnx(encoder: nn.Module, out: Path, quantize: bool = True) -> Path:
    """Export the (merged) encoder with pooling to ONNX; int8 dynamic quantization if asked."""
    out.parent.mkdir(parents=True, exist_ok=True)
    ids = torch.randint(1000, 2000, (2, 12))
    mask = torch.ones_like(ids)
    # The eager attention graph (explicit matmul/softmax) runs ~12% faster under ORT int8 on CPU than
    # the SDPA export (measured with eval/bench/bench_classifier.py); the weights are the same.
    config = getattr(encoder, "config", None)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp, _attention(config, "eager"):
        fp32 = Path(tmp) / "encoder.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _Pooled(encoder.cpu().eval()),
                (ids, mask),
                str(fp32),
                dynamo=False,
                input_names=["input_ids", "attention_mask"],
                output_names=["pooled", "states"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "seq"},
                    "attention_mask": {0: "batch", 1: "seq"},
                    "pooled": {0: "batch"},
                    "states": {0: "batch", 1: "seq"},
                },
                opset_version=17,
            )
        staged = Path(tmp) / out.name
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            from onnxruntime.quantization.shape_inference import quant_pre_process

            # ONNX shape inference only (ORT's symbolic pass does not complete on this graph; its graph
            # optimisations run at session load anyway): the quantized graph is the same as without
            # it, and the quantizer no longer logs a "consider pre-processing" warning to the user.
            shaped = Path(tmp) / "encoder-shaped.onnx"
            quant_pre_process(str(fp32), str(shaped), skip_optimization=True, skip_symbolic_shape=True)
            quantize_dynamic(str(shaped), str(staged), weight_type=QuantType.QInt8, per_channel=True)
        else:
            fp32.rename(staged)
        os.replace(staged, out)  # atomic: a concurrent reader never sees half a file
    return out


@contextlib.contextmanager
def _attention(config, impl: str) -> Iterator[None]:
    """Temporarily switch a transformers config's attention implementation (restored on exit)."""
    saved = getattr(config, "_attn_implementation", None)
    if saved is None:
        yield
        return
    config._attn_implementation = impl
    try:
        yield
    finally:
        config._attn_implementation = saved


class OnnxEncoder:
    """ONNX Runtime session over the cached int8 (or fp32) encoder graph."""

    def __init__(self, path: Path, threads: int | None = None) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or (os.cpu_count() or 1)
        opts.inter_op_num_threads = 1
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a corrupt cache file
            raise ModelError(f"cannot load cached ONNX encoder {path} ({exc}); delete it and run again") from None
        self.name = "onnx-int8" if "int8" in path.name else "onnx-fp32"
        # Dynamic int8 quantization picks activation scales per batch tensor: a text's vector then
        # depends on the other texts in its batch (scores moved up to 0.17 on the samples).
        self.batch_invariant = self.name != "onnx-int8"

    def __call__(self, ids: np.ndarray, mask: np.ndarray, spans: Sequence[Span] = ()) -> torch.Tensor:
        feed = {"input_ids": ids, "attention_mask": mask}
        if not spans:
            (pooled,) = self.session.run(["pooled"], feed)
            return torch.from_numpy(pooled)
        pooled, states = self.session.run(["pooled", "states"], feed)
        return torch.cat([torch.from_numpy(pooled), span_means(torch.from_numpy(states), spans)])
