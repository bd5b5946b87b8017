"""``tagger train``: data -> fine-tuned adapter -> calibration -> dev metrics -> artifact + model card."""

from __future__ import annotations

import dataclasses
import platform
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
from tagger.training.baseline import TfidfBaseline
from tagger.training.calibrate import calibrate, sigmoid, softmax
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


def train_model(
    corpora: Sequence[Corpus],
    cfg: TrainConfig,
    out_dir: Path,
    *,
    baseline: bool = True,
    progress: Progress | None = None,
    command: str = "",
) -> TrainResult:
    t0 = time.time()
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
    )
    tok = AutoTokenizer.from_pretrained(str(base_dir))
    split = {
        n: {c.name: prepare(c.sessions[n], tok, space, cfg.max_tokens) for c in corpora}
        for n in ("train", "calib", "dev")
    }
    train = [d for c in corpora for d in split["train"][c.name]]
    calib = [d for c in corpora for d in split["calib"][c.name]]
    losses = train_loop(encoder, heads, train, cfg, progress)

    temps, thresholds = calibrate(predict_logits(encoder, heads, calib), _targets(calib), space.therapist)
    metrics = {
        c.name: score(
            _targets(split["dev"][c.name]),
            probabilities(predict_logits(encoder, heads, split["dev"][c.name]), temps),
            thresholds,
            space,
        )
        for c in corpora
    }

    base_metrics: dict[str, Any] = {}
    if baseline:
        bl = TfidfBaseline(space, cfg.seed).fit([d.session for d in train], _targets(train))
        b_temps, b_thr = calibrate(bl.logits([d.session for d in calib]), _targets(calib), space.therapist)
        base_metrics = {
            c.name: score(
                _targets(split["dev"][c.name]),
                probabilities(bl.logits([d.session for d in split["dev"][c.name]]), b_temps),
                b_thr,
                space,
            )
            for c in corpora
        }

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
        training=record,
        metrics={"dev": metrics, "baseline_dev": base_metrics},
    )
    save_artifact(out_dir, config, encoder, heads)
    write_card(out_dir, config)
    return TrainResult(out_dir, config, metrics, base_metrics, time.time() - t0)
