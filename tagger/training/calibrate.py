"""Fitted on the calib split: fusion weights of the lexical model, temperatures per head, per-code thresholds
(each code's F1 optimum shrunk toward the threshold that is best for all codes together)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tagger.classify.labels import IGNORE, Targets
from tagger.classify.lexical import fuse
from tagger.classify.net import mix_risk

_TEMPS = np.exp(np.linspace(np.log(0.3), np.log(4.0), 60))
_GRID = np.round(np.arange(0.05, 0.951, 0.01), 2)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _bce(logits: np.ndarray, y: np.ndarray, t: float) -> float:
    p = np.clip(sigmoid(logits / t), 1e-7, 1 - 1e-7)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def _ce(logits: np.ndarray, y: np.ndarray, t: float) -> float:
    p = np.clip(softmax(logits / t), 1e-9, 1.0)
    return float(-np.log(p[np.arange(len(y)), y]).mean())


def fit_temperature_binary(logits: np.ndarray, y: np.ndarray) -> float:
    """Scalar temperature minimising binary NLL over the observed entries (1.0 if none)."""
    if y.size == 0:
        return 1.0
    return float(min(_TEMPS, key=lambda t: _bce(logits, y, t)))


def fit_temperature_multiclass(logits: np.ndarray, y: np.ndarray) -> float:
    if y.size == 0:
        return 1.0
    return float(min(_TEMPS, key=lambda t: _ce(logits, y, t)))


def _f1_curve(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """F1 at every threshold of the grid."""
    pred = p[None, :] >= _GRID[:, None]
    pos = (y == 1)[None, :]
    tp = (pred & pos).sum(1)
    fp = (pred & ~pos).sum(1)
    fn = (~pred & pos).sum(1)
    return 2 * tp / np.maximum(2 * tp + fp + fn, 1e-9)


def best_threshold(p: np.ndarray, y: np.ndarray, prior: float = 0.5, strength: float = 5.0) -> float:
    """F1-maximising threshold, shrunk toward ``prior`` when there are few positives.

    With n positives the result is (n * t_best + strength * prior) / (n + strength): with a
    handful of calibration positives the F1 optimum is mostly noise.
    """
    n_pos = int(y.sum())
    if n_pos == 0:
        return prior
    f1s = _f1_curve(p, y)
    best = _GRID[np.flatnonzero(f1s >= f1s.max() - 1e-9)]
    t_best = float(np.median(best))
    return round((n_pos * t_best + strength * prior) / (n_pos + strength), 3)


def pooled_threshold(columns: Sequence[tuple[np.ndarray, np.ndarray]]) -> float:
    """The one threshold that maximises the mean F1 over these (scores, labels) columns (those
    with a positive): the prior the per-code thresholds are shrunk toward."""
    curves = [_f1_curve(p, y) for p, y in columns if y.sum() > 0]
    if not curves:
        return 0.5
    mean = np.mean(curves, axis=0)
    return float(np.median(_GRID[np.flatnonzero(mean >= mean.max() - 1e-9)]))


# Per-code thresholds: shrunk toward the codes' pooled threshold with this many pseudo-positives.
# Chosen by repeated two-fold cross-validation over the calib sessions of the round-3 model (therapist
# macro-F1 on the held-out half: prior 0.5 with strength 5 -> 0.643, pooled prior with 5 / 10 / 20 / 40
# -> 0.655 / 0.659 / 0.660 / 0.660, one pooled threshold alone 0.654); dev was not used.
POOLED_STRENGTH = 20.0


HEADS = ("therapist", "main", "talk", "risk")
FUSION_GRID = np.round(np.arange(0.0, 0.801, 0.05), 2)


_LOSS = {"therapist": _bce, "main": _ce, "talk": _ce, "risk": _bce}


def _observed(logits: dict[str, np.ndarray], y: Targets, head: str) -> tuple[np.ndarray, np.ndarray]:
    """One head's logits and gold labels where the gold observes that head."""
    if head == "therapist":
        m = y.therapist_mask.astype(bool)
        return logits[head][m], y.therapist[m]
    if head == "risk":
        m = y.risk_mask > 0
        return logits[head][m], y.risk[m]
    gold = getattr(y, head)
    keep = gold != IGNORE
    return logits[head][keep], gold[keep]


def head_nll(logits: dict[str, np.ndarray], y: Targets, head: str) -> float:
    """Negative log-likelihood of one head's observed entries at its best temperature."""
    z, gold = _observed(logits, y, head)
    return min(_LOSS[head](z, gold, t) for t in _TEMPS) if gold.size else 0.0


def fit_fusion(net: dict[str, np.ndarray], lexical: dict[str, np.ndarray], y: Targets) -> dict[str, float]:
    """Per head, the lexical weight (grid 0..0.8) with the lowest calibrated NLL; ties go to less lexical."""
    return fit_fusion_groups([(net, lexical, y)])


def fit_fusion_groups(
    groups: Sequence[tuple[dict[str, np.ndarray], dict[str, np.ndarray], Targets]],
) -> dict[str, float]:
    """:func:`fit_fusion` on the sum of the groups' calibrated NLLs (each group, e.g. a corpus, at its own
    best temperature), so every group counts once whatever its size."""
    weights = {}
    for head in HEADS:
        nll = np.zeros(len(FUSION_GRID))
        for net, lexical, y in groups:
            nll += [head_nll(fuse({head: net[head]}, lexical, {head: w}), y, head) for w in FUSION_GRID]
        weights[head] = float(FUSION_GRID[int(np.argmin(np.round(nll, 6)))])
    return weights


RISK_MIX_GRID = np.round(np.arange(0.0, 1.001, 0.1), 1)


def fit_risk_mix(logits: dict[str, np.ndarray], y: Targets) -> float:
    """The utterance-only risk head's weight in the risk logit (grid 0..1) with the lowest calibrated
    risk NLL; ties go to less weight. 0 when the logits have no such head."""
    if "risk_utterance" not in logits:
        return 0.0
    nll = [head_nll(mix_risk(logits, w), y, "risk") for w in RISK_MIX_GRID]
    return float(RISK_MIX_GRID[int(np.argmin(np.round(nll, 6)))])


def calibrate(
    logits: dict[str, np.ndarray], y: Targets, labels: tuple[str, ...]
) -> tuple[dict[str, float], dict[str, float]]:
    """Returns (temperatures per head, thresholds per therapist code and for risk_indicator)."""
    m = y.therapist_mask.astype(bool)
    temps = {
        h: (fit_temperature_binary if _LOSS[h] is _bce else fit_temperature_multiclass)(*_observed(logits, y, h))
        for h in HEADS
    }
    p = sigmoid(logits["therapist"] / temps["therapist"])
    columns = [(p[m[:, j], j], y.therapist[m[:, j], j].astype(int)) for j in range(len(labels))]
    prior = pooled_threshold(columns)
    thresholds = {
        code: best_threshold(pj, yj, prior, POOLED_STRENGTH) for code, (pj, yj) in zip(labels, columns, strict=True)
    }
    rm = y.risk_mask > 0
    thresholds["risk_indicator"] = best_threshold(sigmoid(logits["risk"][rm] / temps["risk"]), y.risk[rm].astype(int))
    return temps, thresholds
