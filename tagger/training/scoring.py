"""Dev-set metrics for the model card (the full research harness is ``tagger eval``)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from tagger.classify.labels import IGNORE, LabelSpace, Targets


def score(y: Targets, probs: dict[str, np.ndarray], thresholds: dict[str, float], space: LabelSpace) -> dict[str, Any]:
    """Per-code P/R/F1 over observed entries, macro-F1s for main behaviour and talk type, risk F1."""
    out: dict[str, Any] = {"per_code": {}}
    m = y.therapist_mask.astype(bool)
    f1s = []
    for j, code in enumerate(space.therapist):
        mj = m[:, j]
        yt = y.therapist[mj, j].astype(int)
        if yt.sum() == 0:
            continue
        yp = (probs["therapist"][mj, j] >= thresholds[code]).astype(int)
        p, r, f, _ = precision_recall_fscore_support(yt, yp, average="binary", zero_division=0)
        out["per_code"][code] = {
            "precision": round(float(p), 3),
            "recall": round(float(r), 3),
            "f1": round(float(f), 3),
            "support": int(yt.sum()),
        }
        f1s.append(f)
    if f1s:
        out["therapist_macro_f1"] = round(float(np.mean(f1s)), 4)
        yt_all = y.therapist[m].astype(int)
        yp_all = (probs["therapist"] >= np.array([thresholds[c] for c in space.therapist]))[m].astype(int)
        out["therapist_micro_f1"] = round(float(f1_score(yt_all, yp_all, zero_division=0)), 4)
    for head, name in (("main", "main_behaviour"), ("talk", "client_talk")):
        keep = getattr(y, head) != IGNORE
        if keep.any():
            gold = getattr(y, head)[keep]
            pred = probs[head][keep].argmax(-1)
            n_classes = probs[head].shape[1]
            out[f"{name}_macro_f1"] = round(
                float(f1_score(gold, pred, average="macro", labels=list(range(n_classes)), zero_division=0)), 4
            )
            out[f"{name}_support"] = int(keep.sum())
    rm = y.risk_mask > 0
    if rm.any() and y.risk[rm].sum() > 0:
        p, r, f, _ = precision_recall_fscore_support(
            y.risk[rm].astype(int),
            (probs["risk"][rm] >= thresholds["risk_indicator"]).astype(int),
            average="binary",
            zero_division=0,
        )
        out["risk_indicator"] = {
            "precision": round(float(p), 3),
            "recall": round(float(r), 3),
            "f1": round(float(f), 3),
            "support": int(y.risk[rm].sum()),
        }
    return out
