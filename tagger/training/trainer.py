"""Fine-tuning loop: LoRA on the encoder, the sequence layer and heads trained jointly, seeded."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from tagger.classify.base_model import DEFAULT_BASE
from tagger.classify.batching import SessionInputs, encode_all, pad_sessions, session_inputs, tokenize
from tagger.classify.labels import IGNORE, LabelSpace, Targets, encode_targets
from tagger.classify.net import ContextHeads, encode
from tagger.io.labeled import LabeledSession

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TrainConfig:
    name: str = "tagger-minilm"
    base_model: str = DEFAULT_BASE
    num_layers: int | None = None
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_layers: int | None = None
    max_tokens: int = 96
    gru_hidden: int = 192
    dropout: float = 0.1
    epochs: int = 6
    lr_lora: float = 5e-4
    lr_heads: float = 2e-3
    weight_decay: float = 0.01
    window: int = 48
    windows_per_batch: int = 4
    ema: float | None = None  # decay of an exponential moving average of the weights, which is what is kept
    corpus_weights: tuple[tuple[str, float], ...] = ()  # (corpus name, loss weight); unnamed corpora weigh 1
    # weight of the loss of a second risk head that reads the utterance's own input vector, before the GRU:
    # the encoder must put risk into the utterance itself. With a weight > 0 the head is part of the
    # artifact, its logit mixed into the risk head's with a weight fitted on calib (net.mix_risk)
    risk_aux: float = 0.0
    # fit the lexical fusion weights on the sum of each corpus's calib NLL (each corpus counts once)
    # rather than on the pooled calib rows, where the corpus with more rows decides
    balanced_fusion: bool = False
    # probability, per training window, of reading the session's reaction-swapped copy (its therapist
    # risk talk replaced by ordinary therapist turns; training/augment.py), so risk must be read from
    # the client's words rather than from the therapist's reaction. 0: never (the plain run)
    reaction_swap: float = 0.0
    seed: int = 13


@dataclass(frozen=True)
class Prepared:
    """A labelled session turned into model inputs and masked targets; ``weight`` scales its loss.
    ``variant``: the same session with its therapist risk talk swapped out, when it has any."""

    session: LabeledSession
    inputs: SessionInputs
    targets: Targets
    weight: float = 1.0
    variant: Prepared | None = None


def prepare(sessions: Sequence[LabeledSession], tokenizer, space: LabelSpace, max_tokens: int) -> list[Prepared]:
    texts = [u.text for ls in sessions for u in ls.session.utterances]
    ids = tokenize(tokenizer, texts, max_tokens)
    out, k = [], 0
    for ls in sessions:
        utts = ls.session.utterances
        spk = [u.speaker for u in utts]
        inp = session_inputs(ids[k : k + len(utts)], [u.text for u in utts], spk)
        tg = encode_targets(space, spk, [ls.labels.get(u.utterance_id) for u in utts])
        out.append(Prepared(ls, inp, tg))
        k += len(utts)
    return out


def _slice_targets(t: Targets, a: int, b: int) -> Targets:
    return Targets(t.therapist[a:b], t.therapist_mask[a:b], t.main[a:b], t.talk[a:b], t.risk[a:b], t.risk_mask[a:b])


def _cat_targets(ts: Sequence[Targets]) -> dict[str, torch.Tensor]:
    return {
        "therapist": torch.from_numpy(np.concatenate([t.therapist for t in ts])),
        "therapist_mask": torch.from_numpy(np.concatenate([t.therapist_mask for t in ts])),
        "main": torch.from_numpy(np.concatenate([t.main for t in ts])),
        "talk": torch.from_numpy(np.concatenate([t.talk for t in ts])),
        "risk": torch.from_numpy(np.concatenate([t.risk for t in ts])),
        "risk_mask": torch.from_numpy(np.concatenate([t.risk_mask for t in ts])),
    }


def piece_targets(pieces: Sequence[tuple[Prepared, int, int]]) -> dict[str, torch.Tensor]:
    """The targets of ``(session, start, stop)`` pieces, concatenated."""
    return _cat_targets([_slice_targets(d.targets, a, z) for d, a, z in pieces])


def window_targets(data: Sequence[Prepared], windows: Sequence[tuple[int, int, int]]) -> dict[str, torch.Tensor]:
    """The targets of ``(session index, start, stop)`` windows of ``data``, concatenated."""
    return piece_targets([(data[k], a, z) for k, a, z in windows])


def _pick(d: Prepared, p: float, rng: random.Random) -> Prepared:
    """``d`` or, with probability ``p``, its reaction-swapped variant (no draw when there is none)."""
    return d.variant if d.variant is not None and p > 0 and rng.random() < p else d


def session_windows(data: Sequence[Prepared], window: int, rng: random.Random) -> list[tuple[int, int, int]]:
    """Every session cut into ``window``-utterance pieces (a random offset for long sessions), shuffled."""
    out = []
    for k, d in enumerate(data):
        n = len(d.inputs.ids)
        start = -rng.randrange(window // 2) if n > window else 0
        for a in range(start, n, window):
            out.append((k, max(a, 0), min(a + window, n)))
    rng.shuffle(out)
    return out


def flat_logits(logits: dict[str, torch.Tensor], lengths: torch.Tensor) -> dict[str, torch.Tensor]:
    """(B, T, ...) -> (sum(lengths), ...) in session order."""
    keep = torch.arange(next(iter(logits.values())).shape[1]).unsqueeze(0) < lengths.unsqueeze(1)
    return {k: v[keep] for k, v in logits.items()}


def forward(
    encoder: nn.Module,
    heads: ContextHeads,
    inputs: Sequence[SessionInputs],
    hidden: int,
) -> dict[str, torch.Tensor]:
    """Logits per head (``risk_utterance`` unmixed, where the heads have it), flattened."""
    seqs = [s for x in inputs for s in x.ids]
    pooled = encode_all(
        lambda i, m: encode(encoder, torch.from_numpy(i), torch.from_numpy(m)),
        seqs,
        hidden,
        max_batch=64,
        max_tokens_per_batch=4096,
    )
    cur, prev, feats, lengths = pad_sessions(pooled, inputs)
    return flat_logits(heads(cur, prev, feats, lengths), lengths)


def class_weights(counts: np.ndarray) -> torch.Tensor:
    """Inverse square-root frequency, normalised to mean 1 (helps macro-F1 on rare classes)."""
    w = 1.0 / np.sqrt(np.maximum(counts, 1))
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def code_pos_weights(data: Sequence[Prepared]) -> torch.Tensor:
    """Per-code positive weight sqrt(negatives / positives), clipped to [1, 10]: rare codes get recall."""
    pos = sum(d.targets.therapist.sum(0) for d in data)
    obs = sum(d.targets.therapist_mask.sum(0) for d in data)
    w = np.sqrt(np.maximum(obs - pos, 1) / np.maximum(pos, 1))
    return torch.tensor(np.clip(w, 1.0, 10.0), dtype=torch.float32)


def loss_weights(data: Sequence[Prepared], n_main: int, n_talk: int) -> tuple[torch.Tensor, ...]:
    """(main class weights, talk class weights, per-code positive weights) from the training targets."""
    main = np.bincount(np.concatenate([d.targets.main[d.targets.main >= 0] for d in data]), minlength=n_main)
    talk = np.bincount(np.concatenate([d.targets.talk[d.targets.talk >= 0] for d in data]), minlength=n_talk)
    return class_weights(main), class_weights(talk), code_pos_weights(data)


def loss_fn(
    out: dict[str, torch.Tensor],
    y: dict[str, torch.Tensor],
    main_w: torch.Tensor,
    talk_w: torch.Tensor,
    code_w: torch.Tensor | None = None,
    sample_w: torch.Tensor | None = None,
    risk_aux: float = 0.0,
) -> torch.Tensor:
    """Sum of the four heads' losses, plus ``risk_aux`` times the risk loss of ``out["risk_utterance"]``
    when given. ``sample_w`` (one weight per utterance) counts an utterance that many times: each
    head's loss is still divided by the unweighted number of its targets."""
    total = out["therapist"].new_zeros(())
    m = y["therapist_mask"]
    if m.sum() > 0:
        bce = F.binary_cross_entropy_with_logits(out["therapist"], y["therapist"], reduction="none", pos_weight=code_w)
        if sample_w is not None:
            bce = bce * sample_w.unsqueeze(1)
        total = total + (bce * m).sum() / m.sum() * 4.0
    if (y["main"] != IGNORE).any():
        total = total + _cross_entropy(out["main"], y["main"], main_w, sample_w)
    if (y["talk"] != IGNORE).any():
        total = total + _cross_entropy(out["talk"], y["talk"], talk_w, sample_w)
    rm = y["risk_mask"]
    if rm.sum() > 0:
        total = total + _risk_loss(out["risk"], y["risk"], rm, sample_w)
        if risk_aux > 0:
            total = total + risk_aux * _risk_loss(out["risk_utterance"], y["risk"], rm, sample_w)
    return total


def _risk_loss(
    logits: torch.Tensor, y: torch.Tensor, mask: torch.Tensor, sample_w: torch.Tensor | None
) -> torch.Tensor:
    """Masked mean binary cross-entropy, positives weighted 3 (risk rows are rare)."""
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none", pos_weight=torch.tensor(3.0))
    if sample_w is not None:
        bce = bce * sample_w
    return (bce * mask).sum() / mask.sum()


def _cross_entropy(
    logits: torch.Tensor, y: torch.Tensor, class_w: torch.Tensor, sample_w: torch.Tensor | None
) -> torch.Tensor:
    """Class-weighted mean cross-entropy; with ``sample_w`` each term is also scaled by its utterance's weight."""
    if sample_w is None:
        return F.cross_entropy(logits, y, weight=class_w, ignore_index=IGNORE)
    keep = y != IGNORE
    nll = F.cross_entropy(logits[keep], y[keep], weight=class_w, reduction="none")  # class_w[y] * nll
    return (nll * sample_w[keep]).sum() / class_w[y[keep]].sum()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_loop(
    encoder: nn.Module,
    heads: ContextHeads,
    data: Sequence[Prepared],
    cfg: TrainConfig,
    progress: Progress | None = None,
) -> list[float]:
    """Train in place; returns the mean loss per epoch."""
    seed_everything(cfg.seed)
    rng = random.Random(cfg.seed)
    swap_rng = random.Random(cfg.seed + 1)  # its own stream: the windows are the same with or without swaps
    hidden = encoder.config.hidden_size
    lora = [p for n, p in encoder.named_parameters() if p.requires_grad]
    head_params = list(heads.parameters())
    opt = torch.optim.AdamW(
        [{"params": lora, "lr": cfg.lr_lora}, {"params": head_params, "lr": cfg.lr_heads}],
        weight_decay=cfg.weight_decay,
    )
    main_w, talk_w, code_w = loss_weights(data, heads.main.out_features, heads.talk.out_features)
    weighted = any(d.weight != 1.0 for d in data)  # else the unweighted arithmetic, bit for bit as before

    n_steps = cfg.epochs * -(-len(session_windows(data, cfg.window, rng)) // cfg.windows_per_batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=[cfg.lr_lora, cfg.lr_heads],
        total_steps=n_steps + cfg.epochs,
        pct_start=0.1,
        anneal_strategy="linear",
    )
    params = lora + head_params
    averaged = [p.detach().clone() for p in params] if cfg.ema is not None else []
    losses, step = [], 0
    for epoch in range(cfg.epochs):
        encoder.train()
        heads.train()
        ws = session_windows(data, cfg.window, rng)
        epoch_loss = []
        for b in range(0, len(ws), cfg.windows_per_batch):
            chunk = ws[b : b + cfg.windows_per_batch]
            pieces = [(_pick(data[k], cfg.reaction_swap, swap_rng), a, z) for k, a, z in chunk]
            inputs = [d.inputs.window(a, z) for d, a, z in pieces]
            y = piece_targets(pieces)
            out = forward(encoder, heads, inputs, hidden)
            sample_w = torch.cat([torch.full((z - a,), data[k].weight) for k, a, z in chunk]) if weighted else None
            loss = loss_fn(out, y, main_w, talk_w, code_w, sample_w, cfg.risk_aux)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            if cfg.ema is not None:
                with torch.no_grad():
                    for a, p in zip(averaged, params, strict=True):
                        a.mul_(cfg.ema).add_(p.detach(), alpha=1.0 - cfg.ema)
            step += 1
            epoch_loss.append(loss.item())
            if progress:
                progress(f"epoch {epoch + 1}/{cfg.epochs}", step, n_steps)
        losses.append(float(np.mean(epoch_loss)))
    if cfg.ema is not None:
        with torch.no_grad():
            for a, p in zip(averaged, params, strict=True):
                p.copy_(a)
    encoder.eval()
    heads.eval()
    return losses


@torch.no_grad()
def predict_logits(
    encoder: nn.Module, heads: ContextHeads, data: Sequence[Prepared], sessions_per_batch: int = 16
) -> dict[str, np.ndarray]:
    """Raw logits for every utterance of ``data`` (whole sessions, no windows), concatenated in order."""
    encoder.eval()
    heads.eval()
    hidden = encoder.config.hidden_size
    parts: dict[str, list[np.ndarray]] = {}
    for b in range(0, len(data), sessions_per_batch):
        out = forward(encoder, heads, [d.inputs for d in data[b : b + sessions_per_batch]], hidden)
        for k, v in out.items():
            parts.setdefault(k, []).append(v.float().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}
