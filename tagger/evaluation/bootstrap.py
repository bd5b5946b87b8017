"""Session-level bootstrap: confidence intervals and paired comparisons.

Utterances within a session are not independent, so the resampling unit is the session.
Each session contributes an array of sufficient statistics (counts); a resample draws
sessions with replacement and sums their counts, and the statistic is computed from the sum.
All randomness comes from ``numpy.random.default_rng(seed)``: the same seed gives the same
intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tagger.evaluation.metrics import opt

Statistic = Callable[[np.ndarray], np.ndarray]
"""Maps summed counts with a leading batch axis ``(B, ...)`` to values ``(B, ...)``."""

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 13


def resample_weights(n_sessions: int, n_resamples: int, seed: int) -> np.ndarray:
    """``(n_resamples, n_sessions)``: how often each session is drawn in each resample."""
    if n_sessions < 1:
        raise ValueError("the bootstrap needs at least one session")
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_sessions, size=(n_resamples, n_sessions))
    w = np.zeros((n_resamples, n_sessions), dtype=np.int64)
    np.add.at(w, (np.arange(n_resamples)[:, None], draws), 1)
    return w


def resampled_sums(per_session: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum the ``(S, ...)`` per-session counts under each resample: ``(B, ...)``."""
    c = np.asarray(per_session, dtype=float)
    flat = c.reshape(c.shape[0], -1)
    return (weights @ flat).reshape((weights.shape[0],) + c.shape[1:])


def point(per_session: np.ndarray, statistic: Statistic) -> np.ndarray:
    """The statistic on the full data (all sessions once)."""
    return statistic(np.asarray(per_session, dtype=float).sum(0)[None])[0]


def percentile_ci(samples: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0, ignoring resamples where the statistic is undefined."""
    alpha = (1 - level) / 2
    s = np.asarray(samples, dtype=float)
    all_nan = np.all(np.isnan(s), axis=0)
    filled = np.where(all_nan[None], 0.0, s)
    lo = np.nanquantile(filled, alpha, axis=0)
    hi = np.nanquantile(filled, 1 - alpha, axis=0)
    return np.where(all_nan, np.nan, lo), np.where(all_nan, np.nan, hi)


def bootstrap_ci(
    per_session: np.ndarray,
    statistic: Statistic,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile ``level`` interval of ``statistic`` resampling sessions (axis 0)."""
    c = np.asarray(per_session)
    w = resample_weights(c.shape[0], n_resamples, seed) if weights is None else weights
    return percentile_ci(statistic(resampled_sums(c, w)), level)


@dataclass(frozen=True)
class PairedComparison:
    """Metric of system A minus system B, resampling the same sessions for both."""

    metric: str
    system_a: str
    system_b: str
    a: float | None
    b: float | None
    diff: float | None
    low: float | None
    high: float | None
    p_value: float | None  # two-sided: how often the resampled difference crosses 0
    a_better: float | None  # share of resamples where A > B
    n_resamples: int


def paired_bootstrap(
    per_session_a: np.ndarray,
    per_session_b: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    metric: str = "metric",
    names: tuple[str, str] = ("A", "B"),
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    level: float = 0.95,
) -> PairedComparison:
    """Paired session bootstrap of a scalar ``statistic`` (batch ``(B, ...)`` -> ``(B,)``)."""
    a_counts, b_counts = np.asarray(per_session_a), np.asarray(per_session_b)
    if a_counts.shape[0] != b_counts.shape[0]:
        raise ValueError("paired bootstrap needs the same sessions for both systems")
    w = resample_weights(a_counts.shape[0], n_resamples, seed)
    da = statistic(resampled_sums(a_counts, w))
    db = statistic(resampled_sums(b_counts, w))
    d = da - db
    lo, hi = percentile_ci(d, level)
    valid = d[~np.isnan(d)]
    if valid.size:
        p = min(1.0, 2 * min(float(np.mean(valid <= 0)), float(np.mean(valid >= 0))))
        better = float(np.mean(valid > 0))
    else:
        p = better = float("nan")
    pa, pb = float(point(a_counts, statistic)), float(point(b_counts, statistic))
    return PairedComparison(
        metric=metric,
        system_a=names[0],
        system_b=names[1],
        a=opt(pa),
        b=opt(pb),
        diff=opt(pa - pb),
        low=opt(lo),
        high=opt(hi),
        p_value=opt(p),
        a_better=opt(better),
        n_resamples=n_resamples,
    )
