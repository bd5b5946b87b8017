"""Shared forward machinery: length-sorted encoder batches and padded session batches.

Used by training and by every inference backend, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from tagger.classify.features import prev_other_index, session_features

# (ids, mask) int64 arrays [, spans (row, start, stop)] -> (B + len(spans), H): pooled rows, then span means
EncodeFn = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class SessionInputs:
    """Model inputs of one session (or a window of it)."""

    ids: tuple[np.ndarray, ...]  # token ids per utterance (with special tokens, truncated)
    feats: np.ndarray  # (T, F)
    prev: np.ndarray  # (T,) index of the previous other-speaker utterance, -1 if none

    def window(self, start: int, stop: int) -> SessionInputs:
        prev = self.prev[start:stop] - start
        prev[prev < 0] = -1
        return SessionInputs(self.ids[start:stop], self.feats[start:stop], prev)


def tokenize(tokenizer, texts: Sequence[str], max_tokens: int) -> list[np.ndarray]:
    """One batched fast-tokenizer call; no padding (batches pad to their own longest)."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_tokens, padding=False, return_attention_mask=False)
    return [np.asarray(x, dtype=np.int64) for x in enc["input_ids"]]


def session_inputs(ids: Sequence[np.ndarray], texts: Sequence[str], speakers: Sequence[str]) -> SessionInputs:
    return SessionInputs(tuple(ids), session_features(list(texts), list(speakers)), prev_other_index(list(speakers)))


def length_batches(
    lengths: np.ndarray,
    max_batch: int,
    max_tokens_per_batch: int,
    *,
    max_padding: float | None = None,
    min_batch: int = 8,
) -> list[np.ndarray]:
    """Indices sorted by length, cut into batches bounded by count and padded-token budget.

    With ``max_padding``, a batch of at least ``min_batch`` is also cut before padding would exceed
    that share of its real tokens: a few hundred texts of mixed length (one session) then spend
    their time on tokens, not on padding, at the price of a few more, smaller batches.
    """
    order = np.argsort(lengths, kind="stable")
    batches, cur, cur_max, cur_sum = [], [], 0, 0
    for i in order:
        n = int(lengths[i])
        padded = max(cur_max, n) * (len(cur) + 1)
        if cur and (
            len(cur) >= max_batch
            or padded > max_tokens_per_batch
            or (max_padding is not None and len(cur) >= min_batch and padded > (1 + max_padding) * (cur_sum + n))
        ):
            batches.append(np.asarray(cur))
            cur, cur_max, cur_sum = [], 0, 0
        cur.append(i)
        cur_max = max(cur_max, n)
        cur_sum += n
    if cur:
        batches.append(np.asarray(cur))
    return batches


def pad_ids(seqs: Sequence[np.ndarray], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    longest = max(len(s) for s in seqs)
    ids = np.full((len(seqs), longest), pad_id, np.int64)
    mask = np.zeros((len(seqs), longest), np.int64)
    for r, s in enumerate(seqs):
        ids[r, : len(s)] = s
        mask[r, : len(s)] = 1
    return ids, mask


def encode_all(
    encode: EncodeFn,
    seqs: Sequence[np.ndarray],
    hidden: int,
    *,
    max_batch: int = 128,
    max_tokens_per_batch: int = 8192,
    max_padding: float | None = None,
    spans: Sequence[tuple[int, int, int]] = (),
) -> torch.Tensor:
    """Pooled vectors (N, H) for every sequence, computed in length-sorted batches, followed by one
    vector per ``spans`` entry ``(sequence, start, stop)``: the mean of that sequence's token states
    over tokens ``start:stop``, taken from the sequence's own encoding (no extra encoder work)."""
    lengths = np.fromiter((len(s) for s in seqs), np.int64, len(seqs))
    wanted: dict[int, list[tuple[int, int, int]]] = {}
    for k, (i, a, b) in enumerate(spans):
        wanted.setdefault(i, []).append((k, a, b))
    parts: list[torch.Tensor] = []
    order: list[np.ndarray] = []
    span_parts: list[torch.Tensor] = []
    span_order: list[int] = []
    for idx in length_batches(lengths, max_batch, max_tokens_per_batch, max_padding=max_padding):
        ids, mask = pad_ids([seqs[i] for i in idx])
        asked = [(r, k, a, b) for r, i in enumerate(idx) for k, a, b in wanted.get(int(i), ())]
        if asked:
            out = encode(ids, mask, [(r, a, b) for r, _, a, b in asked])
            parts.append(out[: len(idx)])
            span_parts.append(out[len(idx) :])
            span_order.extend(k for _, k, _, _ in asked)
        else:
            parts.append(encode(ids, mask))
        order.append(idx)
    if not parts:
        return torch.zeros((len(spans), hidden))
    pooled = torch.cat(parts)
    inv = torch.empty(len(seqs), dtype=torch.long, device=pooled.device)
    inv[torch.from_numpy(np.concatenate(order)).to(pooled.device)] = torch.arange(len(seqs), device=pooled.device)
    if not spans:
        return pooled[inv]
    span_inv = torch.empty(len(spans), dtype=torch.long, device=pooled.device)
    span_inv[torch.tensor(span_order, device=pooled.device)] = torch.arange(len(spans), device=pooled.device)
    return torch.cat([pooled[inv], torch.cat(span_parts)[span_inv]])


def pad_sessions(pooled: torch.Tensor, inputs: Sequence[SessionInputs]) -> tuple[torch.Tensor, ...]:
    """Scatter flat pooled vectors (sessions concatenated in order) into padded (B, T, ...) tensors."""
    b, t, h = len(inputs), max(len(x.ids) for x in inputs), pooled.shape[1]
    f = inputs[0].feats.shape[1]
    cur = pooled.new_zeros((b, t, h))
    prev = pooled.new_zeros((b, t, h))
    feats = pooled.new_zeros((b, t, f))
    lengths = torch.zeros(b, dtype=torch.long)
    offset = 0
    for r, x in enumerate(inputs):
        n = len(x.ids)
        block = pooled[offset : offset + n]
        cur[r, :n] = block
        has_prev = torch.from_numpy(x.prev >= 0)
        if has_prev.any():
            src = torch.from_numpy(np.where(x.prev >= 0, x.prev, 0))
            prev[r, :n] = block[src] * has_prev.unsqueeze(-1).to(block.dtype)
        feats[r, :n] = torch.from_numpy(x.feats).to(pooled.dtype)
        lengths[r] = n
        offset += n
    return cur, prev, feats, lengths
