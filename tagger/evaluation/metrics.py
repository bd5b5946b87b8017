"""Classification metrics as pure functions of counts.

Everything is computed from sufficient statistics (per-code ``tp, fp, fn, tn`` counts, or a
confusion matrix) so that the bootstrap can resample sessions by summing their counts.
The count functions broadcast over leading axes: pass ``(K,)`` counts for one data set or
``(B, K)`` for ``B`` bootstrap resamples.

Undefined values are ``nan`` in arrays (a precision with no predicted positives, a kappa when
both raters use one label) and ``None`` in the frozen result types; nothing is silently 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NONE_LABEL = "(none)"  # a prediction that gives no label where the gold has one


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def opt(x: float | np.floating | np.ndarray) -> float | None:
    """A scalar (or 0-d array) as ``float``, with ``nan`` -> ``None`` (for JSON and the result types)."""
    v = float(x)
    return None if np.isnan(v) else v


# ---------------------------------------------------------------- binary / multi-label


def binary_counts(gold: np.ndarray, pred: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """``(..., 4)`` counts ``tp, fp, fn, tn`` over axis 0 of boolean ``(N, ...)`` arrays.

    ``mask`` (same shape) keeps only the cells where the gold observes the label.
    """
    g = np.asarray(gold, dtype=bool)
    p = np.asarray(pred, dtype=bool)
    m = np.ones_like(g) if mask is None else np.asarray(mask, dtype=bool)
    if not (g.shape == p.shape == m.shape):
        raise ValueError(f"gold {g.shape}, pred {p.shape} and mask {m.shape} must have the same shape")
    return np.stack(
        [(g & p & m).sum(0), (~g & p & m).sum(0), (g & ~p & m).sum(0), (~g & ~p & m).sum(0)], axis=-1
    ).astype(np.int64)


def precision_recall_f1(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 from ``(..., 4)`` counts.

    F1 = 2tp / (2tp + fp + fn), defined whenever the label occurs in gold or prediction (it
    is 0, not undefined, when the gold has positives and the prediction none, or vice versa).
    """
    c = np.asarray(counts, dtype=float)
    tp, fp, fn = c[..., 0], c[..., 1], c[..., 2]
    return _div(tp, tp + fp), _div(tp, tp + fn), _div(2 * tp, 2 * tp + fp + fn)


def binary_kappa(counts: np.ndarray) -> np.ndarray:
    """Cohen's kappa of two binary raters from ``(..., 4)`` counts ``tp, fp, fn, tn``."""
    c = np.asarray(counts, dtype=float)
    tp, fp, fn, tn = c[..., 0], c[..., 1], c[..., 2], c[..., 3]
    n = tp + fp + fn + tn
    po = _div(tp + tn, n)
    pe = _div((tp + fp) * (tp + fn) + (fn + tn) * (fp + tn), n * n)
    return _div(po - pe, 1 - pe)


def micro_prf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Micro-averaged P/R/F1: pool the ``(..., K, 4)`` counts over the K labels."""
    return precision_recall_f1(np.asarray(counts).sum(axis=-2))


def macro_f1(counts: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Mean F1 over labels ``(..., K, 4)``; labels with undefined F1 are left out.

    ``labels`` (boolean ``(K,)``) fixes which labels count, so that bootstrap resamples
    average the same set as the full data.
    """
    _, _, f1 = precision_recall_f1(counts)
    if labels is not None:
        f1 = f1[..., np.asarray(labels, dtype=bool)]
    if f1.shape[-1] == 0:
        return np.full(f1.shape[:-1], np.nan)
    with np.errstate(all="ignore"):
        valid = ~np.isnan(f1)
        s = np.where(valid, f1, 0.0).sum(-1)
        return _div(s, valid.sum(-1))


# ---------------------------------------------------------------- multi-class


def confusion_matrix(gold: Sequence[str], pred: Sequence[str | None], labels: Sequence[str]) -> np.ndarray:
    """Counts ``cm[i, j]`` of gold ``labels[i]`` predicted as ``labels[j]`` (rows: gold).

    A ``None`` prediction counts under :data:`NONE_LABEL`, which must then be in ``labels``.
    """
    if len(gold) != len(pred):
        raise ValueError(f"gold has {len(gold)} labels and pred {len(pred)}")
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for g, p in zip(gold, pred, strict=True):
        key = NONE_LABEL if p is None else p
        if g not in index or key not in index:
            raise ValueError(f"label {g if g not in index else key!r} is not one of {list(labels)}")
        cm[index[g], index[key]] += 1
    return cm


def confusion_counts(cm: np.ndarray) -> np.ndarray:
    """One-vs-rest ``(..., L, 4)`` counts from ``(..., L, L)`` confusion matrices."""
    cm = np.asarray(cm, dtype=float)
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    fp = cm.sum(-2) - tp
    fn = cm.sum(-1) - tp
    tn = cm.sum((-2, -1))[..., None] - tp - fp - fn
    return np.stack([tp, fp, fn, tn], axis=-1)


def accuracy(cm: np.ndarray) -> np.ndarray:
    cm = np.asarray(cm, dtype=float)
    return _div(np.diagonal(cm, axis1=-2, axis2=-1).sum(-1), cm.sum((-2, -1)))


def multiclass_kappa(cm: np.ndarray) -> np.ndarray:
    """Cohen's kappa from ``(..., L, L)`` confusion matrices."""
    cm = np.asarray(cm, dtype=float)
    n = cm.sum((-2, -1))
    po = _div(np.diagonal(cm, axis1=-2, axis2=-1).sum(-1), n)
    pe = _div((cm.sum(-1) * cm.sum(-2)).sum(-1), n * n)
    return _div(po - pe, 1 - pe)


# ---------------------------------------------------------------- ranking


def average_precision(scores: np.ndarray, outcomes: np.ndarray) -> float:
    """Area under the step precision-recall curve: the mean, over gold positives, of the precision
    at the score that ranks each in (tied scores enter together). NaN without a positive.
    Threshold-free: how well the scores rank, whatever threshold a model ships with."""
    s = np.asarray(scores, dtype=float).ravel()
    y = np.asarray(outcomes, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} outcomes")
    if not y.any():
        return float("nan")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[s[1:] != s[:-1], True]  # the last row of each run of tied scores
    tp = np.cumsum(y)[last]
    seen = np.flatnonzero(last) + 1
    recall_step = np.diff(np.r_[0, tp]) / tp[-1]
    return float((recall_step * tp / seen).sum())


# ---------------------------------------------------------------- result types


@dataclass(frozen=True)
class LabelScore:
    """Scores of one label (a code, or one class of a multi-class task)."""

    label: str
    precision: float | None
    recall: float | None
    f1: float | None
    support: int  # gold positives
    predicted: int  # predicted positives
    n: int  # utterances scored for this label
    kappa: float | None = None
    f1_low: float | None = None  # bootstrap CI, when computed
    f1_high: float | None = None
    average_precision: float | None = None  # of the system's scores, when it gives them (threshold-free)


def label_scores(labels: Sequence[str], counts: np.ndarray, with_kappa: bool = True) -> tuple[LabelScore, ...]:
    """One :class:`LabelScore` per label from ``(K, 4)`` counts."""
    c = np.asarray(counts)
    p, r, f = precision_recall_f1(c)
    k = binary_kappa(c) if with_kappa else np.full(len(labels), np.nan)
    return tuple(
        LabelScore(
            label=lab,
            precision=opt(p[i]),
            recall=opt(r[i]),
            f1=opt(f[i]),
            support=int(c[i, 0] + c[i, 2]),
            predicted=int(c[i, 0] + c[i, 1]),
            n=int(c[i].sum()),
            kappa=opt(k[i]),
        )
        for i, lab in enumerate(labels)
    )
