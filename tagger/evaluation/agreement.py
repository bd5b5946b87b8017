"""Agreement statistics: Fleiss' kappa, intraclass correlation, Pearson correlation.

Cohen's kappa lives in :mod:`tagger.evaluation.metrics` (it is computed from counts).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa from an ``(items, categories)`` table of how many raters chose each category.

    Items may have different numbers of raters (at least 2 each); the per-item agreement is
    ``(sum_j n_ij^2 - n_i) / (n_i (n_i - 1))`` and the category shares pool all ratings.
    Returns ``nan`` when chance agreement is 1 (every rating in one category).
    """
    t = np.asarray(table, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0:
        raise ValueError("fleiss_kappa needs a non-empty (items, categories) table")
    n_i = t.sum(1)
    if np.any(n_i < 2):
        raise ValueError("every item needs at least two ratings for Fleiss' kappa")
    p_i = ((t * t).sum(1) - n_i) / (n_i * (n_i - 1))
    p_j = t.sum(0) / n_i.sum()
    p_bar, pe = p_i.mean(), float((p_j * p_j).sum())
    return float("nan") if pe == 1 else float((p_bar - pe) / (1 - pe))


@dataclass(frozen=True)
class IccTable:
    """Two-way ANOVA mean squares of an ``(n targets, k raters)`` matrix."""

    n: int
    k: int
    msr: float  # between targets (rows)
    msc: float  # between raters (columns)
    mse: float  # residual
    msw: float  # within targets (one-way)


def _anova(x: np.ndarray) -> IccTable:
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 2:
        raise ValueError("ICC needs an (n targets, k raters) matrix with n >= 2 and k >= 2")
    if np.isnan(x).any():
        raise ValueError("ICC needs complete ratings: drop targets with a missing value first")
    n, k = x.shape
    grand = x.mean()
    rows, cols = x.mean(1), x.mean(0)
    ssr = k * ((rows - grand) ** 2).sum()
    ssc = n * ((cols - grand) ** 2).sum()
    sst = ((x - grand) ** 2).sum()
    sse = sst - ssr - ssc
    return IccTable(
        n=n, k=k, msr=ssr / (n - 1), msc=ssc / (k - 1), mse=sse / ((n - 1) * (k - 1)), msw=(sst - ssr) / (n * (k - 1))
    )


def _ratio(num: float, den: float) -> float:
    return float("nan") if den == 0 else float(num / den)


def icc(x: np.ndarray, kind: str = "2,1") -> float:
    """Intraclass correlation (Shrout & Fleiss 1979) of an ``(n targets, k raters)`` matrix.

    ``kind``: ``"1,1"`` one-way random; ``"2,1"`` two-way random, absolute agreement (the
    rater's bias counts as disagreement); ``"3,1"`` two-way mixed, consistency.
    """
    a = _anova(x)
    if kind == "1,1":
        return _ratio(a.msr - a.msw, a.msr + (a.k - 1) * a.msw)
    if kind == "2,1":
        return _ratio(a.msr - a.mse, a.msr + (a.k - 1) * a.mse + a.k * (a.msc - a.mse) / a.n)
    if kind == "3,1":
        return _ratio(a.msr - a.mse, a.msr + (a.k - 1) * a.mse)
    raise ValueError(f"ICC kind must be '1,1', '2,1' or '3,1', got {kind!r}")


def pearson(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Pearson correlation; ``nan`` with fewer than 2 pairs or a constant series."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"pearson needs equal lengths, got {a.size} and {b.size}")
    if a.size < 2:
        return float("nan")
    da, db = a - a.mean(), b - b.mean()
    den = float(np.sqrt((da * da).sum() * (db * db).sum()))
    return _ratio(float((da * db).sum()), den)
