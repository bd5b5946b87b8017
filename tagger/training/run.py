"""``tagger train``: data -> fine-tuned adapter -> lexical fusion + calibration -> dev metrics -> artifact + card."""

from __future__ import annotations

import dataclasses
import platform
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer

import tagger
from tagger.classify.artifact import ModelConfig, build_trainable, save_artifact
from tagger.classify.base_model import weights_digest
from tagger.classify.labels import LabelSpace, Targets
from tagger.classify.lexical import fuse
from tagger.classify.net import mix_risk
from tagger.errors import InputError
from tagger.training.augment import swap_reactions
from tagger.training.baseline import TfidfBaseline
from tagger.training.calibrate import calibrate, fit_fusion, fit_fusion_groups, fit_risk_mix, sigmoid, softmax
from tagger.training.card import write_card
from tagger.training.data import Corpus
from tagger.training.scoring import score
from tagger.training.trainer import (
    Prepared,
    Progress,
    TrainConfig,
    predict_logits,
    prepare,
    seed_everything,
    train_loop,
)


@dataclass(frozen=True)
class TrainResult:
    model_dir: Path
    config: ModelConfig
    metrics: dict[str, Any]
    baseline_metrics: dict[str, Any]
    seconds: float


def _targets(data: Sequence[Prepared]) -> Targets:
    ts = [d.targets for d in data]
    return Targets(*(np.concatenate([getattr(t, f.name) for t in ts]) for f in dataclasses.fields(Targets)))


def probabilities(logits: dict[str, np.ndarray], temps: dict[str, float]) -> dict[str, np.ndarray]:
    return {
        "therapist": sigmoid(logits["therapist"] / temps["therapist"]),
        "main": softmax(logits["main"] / temps["main"]),
        "talk": softmax(logits["talk"] / temps["talk"]),
        "risk": sigmoid(logits["risk"] / temps["risk"]),
    }


def corpus_weights(cfg: TrainConfig, corpora: Sequence[Corpus]) -> dict[str, float]:
    """Each corpus's loss weight from ``cfg.corpus_weights`` (1 where unnamed), checked."""
    names = [c.name for c in corpora]
    given = dict(cfg.corpus_weights)
    unknown = sorted(set(given) - set(names))
    if unknown:
        raise InputError(
            f"corpus weight for {', '.join(unknown)}: no such corpus in training (have {', '.join(names)})"
        )
    bad = [f"{n}={w}" for n, w in given.items() if not w > 0]
    if bad:
        raise InputError(f"corpus weights must be positive numbers, got {', '.join(bad)}")
    return {n: float(given.get(n, 1.0)) for n in names}


def train_model(
    corpora: Sequence[Corpus],
    cfg: TrainConfig,
    out_dir: Path,
    *,
    baseline: bool = True,
    progress: Progress | None = None,
    command: str = "",
) -> TrainResult:
    """Fine-tune on the train split, then :func:`finish_model`. With ``baseline=False`` the
    TF-IDF model is neither reported nor fused (a network-only artifact)."""
    t0 = time.time()
    if not cfg.risk_aux >= 0:
        raise InputError(f"risk_aux (--risk-aux) {cfg.risk_aux}: expected a weight of 0 or more (0: no risk probe)")
    if not 0 <= cfg.reaction_swap <= 1:
        raise InputError(
            f"reaction_swap (--reaction-swap) {cfg.reaction_swap}: expected a probability from 0 to 1 (0: no swaps)"
        )
    seed_everything(cfg.seed)  # before any weight is initialised
    space = LabelSpace.default()
    encoder, heads, base_dir = build_trainable(
        cfg.base_model,
        space,
        num_layers=cfg.num_layers,
        lora_r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        gru_hidden=cfg.gru_hidden,
        dropout=cfg.dropout,
        lora_layers=cfg.lora_layers,
        risk_utterance=cfg.risk_aux > 0,
    )
    tok = AutoTokenizer.from_pretrained(str(base_dir))
    split = {
        n: {c.name: prepare(c.sessions[n], tok, space, cfg.max_tokens) for c in corpora}
        for n in ("train", "calib", "dev")
    }
    weights = corpus_weights(cfg, corpora)
    if cfg.reaction_swap > 0:
        for c in corpora:
            split["train"][c.name] = with_variants(split["train"][c.name], tok, space, cfg)
    train = [dataclasses.replace(d, weight=weights[c.name]) for c in corpora for d in split["train"][c.name]]
    losses = train_loop(encoder, heads, train, cfg, progress)
    with torch.no_grad():  # calibrate and score the weights as they are shipped (float16)
        for p in [*(p for p in encoder.parameters() if p.requires_grad), *heads.parameters()]:
            p.copy_(p.half().float())
    return finish_model(
        encoder, heads, base_dir, corpora, split, cfg, out_dir, losses, baseline=baseline, command=command, t0=t0
    )


def with_variants(data: list[Prepared], tok, space: LabelSpace, cfg: TrainConfig) -> list[Prepared]:
    """``data`` with each session's reaction-swapped copy attached (training/augment.py), seeded."""
    copies = swap_reactions([d.session for d in data], random.Random(cfg.seed))
    ready = iter(prepare([c for c in copies if c is not None], tok, space, cfg.max_tokens))
    return [d if c is None else dataclasses.replace(d, variant=next(ready)) for d, c in zip(data, copies, strict=True)]


def _rows(logits: dict[str, np.ndarray], a: int, b: int) -> dict[str, np.ndarray]:
    return {h: v[a:b] for h, v in logits.items()}


def _dev_scores(
    y_dev: dict[str, Targets], logits: dict[str, dict[str, np.ndarray]], temps, thresholds, space
) -> dict[str, Any]:
    return {name: score(y, probabilities(logits[name], temps), thresholds, space) for name, y in y_dev.items()}


def finish_model(
    encoder: torch.nn.Module,
    heads: torch.nn.Module,
    base_dir: Path,
    corpora: Sequence[Corpus],
    split: dict[str, dict[str, list[Prepared]]],
    cfg: TrainConfig,
    out_dir: Path,
    losses: Sequence[float],
    *,
    baseline: bool = True,
    command: str = "",
    t0: float | None = None,
) -> TrainResult:
    """Everything after the network's training, all fitted on train/calib and scored on dev:
    the TF-IDF model (reported as the baseline, and fused into the tagger with per-head weights
    fitted on calib), temperatures, thresholds, dev metrics, the artifact and its card."""
    t0 = time.time() if t0 is None else t0
    space = LabelSpace.default()
    train = [d for c in corpora for d in split["train"][c.name]]
    calib = [d for c in corpora for d in split["calib"][c.name]]
    y_calib = _targets(calib)
    y_dev = {c.name: _targets(split["dev"][c.name]) for c in corpora}
    net_calib = predict_logits(encoder, heads, calib)
    net_dev = {c.name: predict_logits(encoder, heads, split["dev"][c.name]) for c in corpora}
    risk_mix = fit_risk_mix(net_calib, y_calib)  # 0 unless the heads have the utterance-only risk head
    net_calib = mix_risk(net_calib, risk_mix)
    net_dev = {name: mix_risk(z, risk_mix) for name, z in net_dev.items()}

    # the network alone: reported so the lexical fusion's share of the result stays visible
    n_temps, n_thr = calibrate(net_calib, y_calib, space.therapist)
    net_metrics = _dev_scores(y_dev, net_dev, n_temps, n_thr, space)

    lexical, fusion = None, {}
    base_metrics: dict[str, Any] = {}
    fused_calib, fused_dev = net_calib, net_dev
    if baseline:
        bl = TfidfBaseline(space, cfg.seed).fit([d.session for d in train], _targets(train))
        lexical = bl.model
        lex_calib = bl.logits([d.session for d in calib])
        lex_dev = {c.name: bl.logits([d.session for d in split["dev"][c.name]]) for c in corpora}
        b_temps, b_thr = calibrate(lex_calib, y_calib, space.therapist)
        base_metrics = _dev_scores(y_dev, lex_dev, b_temps, b_thr, space)
        if cfg.balanced_fusion:  # each corpus's calib NLL counts once, whatever its size
            k = np.cumsum([0, *(sum(len(d.inputs.ids) for d in split["calib"][c.name]) for c in corpora)])
            fusion = fit_fusion_groups(
                [
                    (_rows(net_calib, a, b), _rows(lex_calib, a, b), _targets(split["calib"][c.name]))
                    for c, a, b in zip(corpora, k[:-1], k[1:], strict=True)
                ]
            )
        else:
            fusion = fit_fusion(net_calib, lex_calib, y_calib)
        fused_calib = fuse(net_calib, lex_calib, fusion)
        fused_dev = {c.name: fuse(net_dev[c.name], lex_dev[c.name], fusion) for c in corpora}
    temps, thresholds = calibrate(fused_calib, y_calib, space.therapist)
    metrics = _dev_scores(y_dev, fused_dev, temps, thresholds, space)

    record = {
        "command": command,
        "config": dataclasses.asdict(cfg),
        "data": {
            c.name: {
                "files": c.files,
                "sessions": {n: [s.session_id for s in c.sessions[n]] for n in ("train", "calib", "dev")},
            }
            for c in corpora
        },
        "epoch_losses": [round(x, 4) for x in losses],
        "tagger_version": tagger.__version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "seconds": round(time.time() - t0, 1),
    }
    config = ModelConfig(
        name=cfg.name,
        base_model=cfg.base_model,
        base_model_sha256=weights_digest(base_dir),
        therapist_labels=space.therapist,
        main_labels=space.main,
        talk_labels=space.talk,
        num_layers=cfg.num_layers,
        lora_r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_layers=cfg.lora_layers,
        max_tokens=cfg.max_tokens,
        gru_hidden=cfg.gru_hidden,
        thresholds=thresholds,
        temperatures=temps,
        fusion=fusion,
        risk_utterance=getattr(heads, "risk_utterance", None) is not None,
        risk_mix=risk_mix,
        training=record,
        metrics={"dev": metrics, "baseline_dev": base_metrics, "network_dev": net_metrics},
    )
    save_artifact(out_dir, config, encoder, heads, lexical if any(w > 0 for w in fusion.values()) else None)
    write_card(out_dir, config)
    return TrainResult(out_dir, config, metrics, base_metrics, time.time() - t0)
