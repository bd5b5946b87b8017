"""Calibration of predicted probabilities: reliability bins, expected calibration error, Brier.

Each (utterance, code) pair the gold observes is one binary event: the predicted score of
the code against whether the gold carries it. Bins are equal-width on [0, 1]; bin ``b`` holds
scores in ``[b/n, (b+1)/n)`` and the last bin also holds 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tagger.evaluation.metrics import opt

DEFAULT_BINS = 10


@dataclass(frozen=True)
class ReliabilityBin:
    lower: float
    upper: float
    count: int
    confidence: float | None  # mean predicted probability in the bin
    frequency: float | None  # share of gold positives in the bin


@dataclass(frozen=True)
class Calibration:
    """Calibration of one group of scores (``name``: e.g. ``therapist`` or ``all``)."""

    name: str
    n: int
    ece: float | None
    brier: float | None
    bins: tuple[ReliabilityBin, ...]


def bin_index(probs: np.ndarray, n_bins: int = DEFAULT_BINS) -> np.ndarray:
    """Equal-width bin of each probability (1.0 falls in the last bin)."""
    p = np.asarray(probs, dtype=float)
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1 or np.isnan(p).any()):
        raise ValueError("probabilities must lie in [0, 1]")
    return np.minimum(np.floor(p * n_bins).astype(np.int64), n_bins - 1)


def expected_calibration_error(probs: np.ndarray, outcomes: np.ndarray, n_bins: int = DEFAULT_BINS) -> float:
    """ECE = sum over bins of (bin size / N) * |observed frequency - mean probability|."""
    ece = reliability(probs, outcomes, n_bins=n_bins).ece
    return float("nan") if ece is None else ece


def reliability(
    probs: np.ndarray, outcomes: np.ndarray, *, n_bins: int = DEFAULT_BINS, name: str = "all"
) -> Calibration:
    """Reliability-diagram bins, ECE and Brier score of binary ``outcomes`` given ``probs``."""
    p = np.asarray(probs, dtype=float).ravel()
    y = np.asarray(outcomes, dtype=float).ravel()
    if p.shape != y.shape:
        raise ValueError(f"{p.size} probabilities but {y.size} outcomes")
    idx = bin_index(p, n_bins)
    bins = []
    ece = 0.0
    for b in range(n_bins):
        sel = idx == b
        k = int(sel.sum())
        conf = float(p[sel].mean()) if k else float("nan")
        freq = float(y[sel].mean()) if k else float("nan")
        if k:
            ece += k / p.size * abs(freq - conf)
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, k, opt(conf), opt(freq)))
    n = int(p.size)
    return Calibration(
        name=name,
        n=n,
        ece=ece if n else None,
        brier=float(np.mean((p - y) ** 2)) if n else None,
        bins=tuple(bins),
    )
