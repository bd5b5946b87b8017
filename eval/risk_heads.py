"""Where does the risk head look? Heads retrained on a model's frozen utterance vectors.

    python eval/risk_heads.py [--model DIR] [--seeds 13,14,15] [--epochs 10]

The model's encoder (adapter merged) encodes every utterance of the train, calib and dev splits
once. Then fresh heads, laid out as shipped but for the risk head, are trained on those fixed
vectors with the training loss (all four heads, the trainer's windows and schedule), once per
variant and seed. The risk head reads:

- ``context``: the utterance's input vector and both GRU directions (the shipped layout);
- ``forward``: the input vector and the forward GRU direction only: the session up to and including
  the utterance, not the therapist's reaction to it;
- ``utterance``: the input vector only (the utterance, the previous other-speaker turn, features).

First, how many gold risk rows of train and calib come right after a risk-assessment turn. Then
per run, on the authored dev split: average precision and F1 of ``risk_indicator`` (threshold: the
calib F1 optimum), and of the twelve plain risk statements of ``eval/risk_probe.py`` put in place of
row 20 of the ordinary session s003, how many are flagged. A cheap stand-in for retraining: the
encoder is not retrained, so a variant that needs the encoder to learn more cannot show it here.
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from risk_probe import RISK  # noqa: E402
from sklearn.metrics import average_precision_score, f1_score  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

from tagger.classify.artifact import load_artifact  # noqa: E402
from tagger.classify.batching import encode_all, pad_sessions  # noqa: E402
from tagger.classify.labels import LabelSpace  # noqa: E402
from tagger.classify.net import ContextHeads, encode  # noqa: E402
from tagger.io.labeled import read_labeled  # noqa: E402
from tagger.training.calibrate import best_threshold, sigmoid  # noqa: E402
from tagger.training.data import AUTHORED_DIR, load_annomi, load_authored  # noqa: E402
from tagger.training.trainer import (  # noqa: E402
    Prepared,
    TrainConfig,
    flat_logits,
    loss_fn,
    loss_weights,
    prepare,
    session_windows,
    window_targets,
)

VARIANTS = ("context", "forward", "utterance")


class Variant(ContextHeads):
    """The shipped heads with the risk head reading less of the session."""

    def __init__(self, hidden: int, shape, reads: str) -> None:
        super().__init__(hidden, shape)
        self.reads = reads
        width = {"context": 2 * shape.gru_hidden, "forward": shape.gru_hidden, "utterance": 0}[reads]
        self.risk = nn.Linear(hidden + width, 1)

    def forward(self, pooled, prev, feats, lengths):
        x, out = self.context(pooled, prev, feats, lengths)
        h = self.drop(torch.cat([x, out], dim=-1))
        seen = {"context": out, "forward": out[..., : out.shape[-1] // 2], "utterance": out[..., :0]}[self.reads]
        return {
            "therapist": self.therapist(h),
            "main": self.main(h),
            "talk": self.talk(h),
            "risk": self.risk(self.drop(torch.cat([x, seen], dim=-1))).squeeze(-1),
        }


class Frozen:
    """Prepared sessions of one split with their utterance vectors."""

    def __init__(self, data: list[Prepared], vectors: torch.Tensor) -> None:
        self.data = data
        offsets = np.cumsum([0] + [len(d.inputs.ids) for d in data])
        self.vectors = [vectors[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]

    def logits(self, heads: nn.Module, items: list[tuple[int, int, int]]) -> dict[str, torch.Tensor]:
        inputs = [self.data[k].inputs.window(a, z) for k, a, z in items]
        pooled = torch.cat([self.vectors[k][a:z] for k, a, z in items])
        cur, prev, feats, lengths = pad_sessions(pooled, inputs)
        return flat_logits(heads(cur, prev, feats, lengths), lengths)

    def whole(self) -> list[tuple[int, int, int]]:
        return [(k, 0, len(d.inputs.ids)) for k, d in enumerate(self.data)]


def train_heads(train: Frozen, make, cfg: TrainConfig, seed: int) -> nn.Module:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    heads = make()
    main_w, talk_w, code_w = loss_weights(train.data, heads.main.out_features, heads.talk.out_features)
    opt = torch.optim.AdamW(heads.parameters(), lr=cfg.lr_heads, weight_decay=cfg.weight_decay)
    epochs = [session_windows(train.data, cfg.window, rng) for _ in range(cfg.epochs)]
    steps = sum(-(-len(w) // cfg.windows_per_batch) for w in epochs)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=cfg.lr_heads, total_steps=steps, pct_start=0.1, anneal_strategy="linear"
    )
    heads.train()
    for ws in epochs:
        for b in range(0, len(ws), cfg.windows_per_batch):
            chunk = ws[b : b + cfg.windows_per_batch]
            loss = loss_fn(train.logits(heads, chunk), window_targets(train.data, chunk), main_w, talk_w, code_w)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(heads.parameters(), 1.0)
            opt.step()
            sched.step()
    return heads.eval()


@torch.no_grad()
def risk_scores(split: Frozen, heads: nn.Module) -> tuple[np.ndarray, np.ndarray]:
    """Risk probabilities and gold of every client row with a risk label."""
    items = split.whole()
    p = sigmoid(split.logits(heads, items)["risk"].numpy())
    y = window_targets(split.data, items)
    keep = y["risk_mask"].numpy() > 0
    return p[keep], y["risk"].numpy()[keep]


def after_risk_question(sessions) -> tuple[int, int]:
    """(gold risk_indicator client rows whose last therapist turn before them is a risk_assessment, all such rows)."""
    after = total = 0
    for ls in sessions:
        last: frozenset[str] = frozenset()
        for u in ls.session.utterances:
            gold = ls.labels[u.utterance_id]
            if u.speaker == "therapist":
                last = gold.codes
            elif gold.risk_indicator:
                total += 1
                after += "risk_assessment" in last
    return after, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--seeds", default="13,14,15", help="comma-separated seeds per variant")
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    model = load_artifact(args.model)
    tok = AutoTokenizer.from_pretrained(str(model.base_dir))
    space = LabelSpace.default()
    hidden = model.encoder.config.hidden_size

    @torch.no_grad()
    def vectors(data: list[Prepared]) -> torch.Tensor:
        seqs = [s for d in data for s in d.inputs.ids]
        return encode_all(lambda i, m: encode(model.encoder, torch.from_numpy(i), torch.from_numpy(m)), seqs, hidden)

    corpora = (load_authored(), load_annomi())
    splits = {}
    for name in ("train", "calib", "dev"):
        # authored dev only: the risk flag is unobserved in AnnoMI
        use = corpora[:1] if name == "dev" else corpora
        data = [d for c in use for d in prepare(c.sessions[name], tok, space, model.config.max_tokens)]
        splits[name] = Frozen(data, vectors(data))
    base = read_labeled(AUTHORED_DIR / "s003.csv", fmt="codes")[0]
    utts = base.session.utterances
    row = next(i for i, u in enumerate(utts) if i >= 20 and u.speaker == "client")
    probes = []
    for line in RISK:
        probed = utts[:row] + (replace(utts[row], text=line),) + utts[row + 1 :]
        probes.append(replace(base, session=replace(base.session, utterances=probed)))
    probes = prepare(probes, tok, space, model.config.max_tokens)
    probe = Frozen(probes, vectors(probes))
    after, total = after_risk_question([*corpora[0].sessions["train"], *corpora[0].sessions["calib"]])
    print(f"authored train+calib: {after} of {total} risk_indicator rows come right after a risk_assessment turn")
    print(f"risk head variants on frozen vectors of {model.artifact_dir} ({args.epochs} epochs each)")
    print("| risk head reads | seed | dev AP | dev F1 | threshold | inserted statements flagged (of 12) |")
    print("|---|---|---|---|---|---|")
    for reads in VARIANTS:
        for seed in (int(s) for s in args.seeds.split(",")):
            heads = train_heads(
                splits["train"],
                lambda r=reads: Variant(hidden, model.config.shape, r),
                TrainConfig(epochs=args.epochs),
                seed,
            )
            thr = best_threshold(*risk_scores(splits["calib"], heads))
            p, y = risk_scores(splits["dev"], heads)
            with torch.no_grad():
                ins = [
                    sigmoid(probe.logits(heads, [(k, 0, len(d.inputs.ids))])["risk"].numpy())[row]
                    for k, d in enumerate(probe.data)
                ]
            print(
                f"| {reads} | {seed} | {average_precision_score(y, p):.3f} | {f1_score(y, p >= thr):.3f} "
                f"| {thr:.2f} | {sum(s >= thr for s in ins)} (mean score {np.mean(ins):.2f}) |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
