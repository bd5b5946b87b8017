"""How the lexical fusion weights are fitted, on a trained model's own calib logits (calib only; dev shown).

    python eval/fusion_fit.py [--model DIR]

Runs the model's network and its lexical model once over the calib and dev splits of AnnoMI and the
authored corpus (about 3 min on 2 cores), then fits the per-head fusion weights two ways and scores
dev as training does (temperatures and thresholds refitted on calib):

- ``pooled``: lowest calibrated NLL over all calib rows together (what ``tagger train`` does);
- ``balanced``: lowest mean of the per-corpus calib NLLs, so each corpus counts once;
- ``none``: the network alone.

Then, for the argmax heads (main behaviour, talk type), per-class logit offsets fitted by coordinate
ascent on the mean per-corpus calib macro-F1, and their effect on dev macro-F1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import f1_score  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

from tagger.classify.artifact import load_artifact  # noqa: E402
from tagger.classify.labels import LabelSpace  # noqa: E402
from tagger.classify.lexical import fuse  # noqa: E402
from tagger.classify.net import mix_risk  # noqa: E402
from tagger.training.baseline import _inputs  # noqa: E402
from tagger.training.calibrate import HEADS, calibrate, fit_fusion, fit_fusion_groups  # noqa: E402
from tagger.training.data import load_annomi, load_authored  # noqa: E402
from tagger.training.run import _targets, probabilities  # noqa: E402
from tagger.training.scoring import score  # noqa: E402
from tagger.training.trainer import predict_logits, prepare  # noqa: E402

OFFSETS = np.round(np.arange(-1.0, 1.01, 0.1), 2)


def macro_f1(z: np.ndarray, y: np.ndarray, offset: np.ndarray) -> float:
    return f1_score(y, (z + offset).argmax(1), average="macro")


def fit_offsets(calib: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    n = calib[0][0].shape[1]
    b = np.zeros(n)

    def objective(v: np.ndarray) -> float:
        return round(float(np.mean([macro_f1(z, y, v) for z, y in calib])), 5)

    for _ in range(3):
        for j in range(1, n):
            b[j] = max(OFFSETS, key=lambda g: (objective(np.r_[b[:j], g, b[j + 1 :]]), -abs(g)))
    return b


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=ROOT / "models" / "tagger-minilm")
    args = ap.parse_args()
    m = load_artifact(args.model)
    tok = AutoTokenizer.from_pretrained(str(m.base_dir))
    space = LabelSpace.default()
    corpora = [load_annomi(), load_authored()]
    prep = {
        n: {c.name: prepare(c.sessions[n], tok, space, m.config.max_tokens) for c in corpora} for n in ("calib", "dev")
    }
    net = {
        n: {k: mix_risk(predict_logits(m.encoder, m.heads, v), m.config.risk_mix) for k, v in prep[n].items()}
        for n in prep
    }
    lex = {n: {k: m.lexical.logits(_inputs([d.session for d in v])) for k, v in prep[n].items()} for n in prep}
    y = {n: {k: _targets(v) for k, v in prep[n].items()} for n in prep}
    names = [c.name for c in corpora]

    def pooled(d: dict) -> dict:
        return {h: np.concatenate([d[k][h] for k in names]) for h in d[names[0]]}

    net_c, lex_c = pooled(net["calib"]), pooled(lex["calib"])
    y_c = _targets([d for k in names for d in prep["calib"][k]])
    fits = {
        "pooled": fit_fusion(net_c, lex_c, y_c),
        "balanced": fit_fusion_groups([(net["calib"][k], lex["calib"][k], y["calib"][k]) for k in names]),
        "none": {h: 0.0 for h in HEADS},
    }
    for label, weights in fits.items():
        temps, thr = calibrate(fuse(net_c, lex_c, weights), y_c, space.therapist)
        dev = {
            k: score(y["dev"][k], probabilities(fuse(net["dev"][k], lex["dev"][k], weights), temps), thr, space)
            for k in names
        }
        print(f"{label:9s} weights {weights}")
        for k in names:
            shown = {key: round(v, 3) for key, v in dev[k].items() if key.endswith("macro_f1")}
            print(f"    dev {k}: {shown}")

    weights = fits["pooled"]

    def observed(split: str, k: str, head: str) -> tuple[np.ndarray, np.ndarray]:
        z, gold = fuse(net[split][k], lex[split][k], weights)[head], getattr(y[split][k], head)
        return z[gold >= 0], gold[gold >= 0]

    for head in ("main", "talk"):
        cal = [v for v in (observed("calib", k, head) for k in names) if len(v[1])]
        b = fit_offsets(cal)
        zero = np.zeros_like(b)
        print(f"offsets {head} {b}: calib {np.mean([macro_f1(*v, zero) for v in cal]):.3f} -> "
              f"{np.mean([macro_f1(*v, b) for v in cal]):.3f}")  # fmt: skip
        for k in names:
            z, gold = observed("dev", k, head)
            if len(gold):
                print(f"    dev {k}: {macro_f1(z, gold, zero):.3f} -> {macro_f1(z, gold, b):.3f}")


if __name__ == "__main__":
    main()
