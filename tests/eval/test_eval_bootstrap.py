"""Session bootstrap: determinism, resampling unit, and intervals computable by hand.

With two sessions a resample is {A, A}, {A, B} or {B, B} with probability 1/4, 1/2, 1/4, so
the 2.5th and 97.5th percentiles are the statistic on {A, A} and on {B, B}.
"""

from __future__ import annotations

import numpy as np
import pytest

from tagger.evaluation.bootstrap import bootstrap_ci, paired_bootstrap, point, resample_weights, resampled_sums
from tagger.evaluation.metrics import micro_prf, precision_recall_f1

# per-session (tp, fp, fn, tn) of one code
SESSION_A = [1, 0, 1, 0]  # F1 = 2/3
SESSION_B = [3, 0, 0, 1]  # F1 = 1


def f1(c: np.ndarray) -> np.ndarray:
    return precision_recall_f1(c)[2]


def test_weights_are_seeded_and_resample_sessions() -> None:
    w = resample_weights(5, 200, seed=3)
    assert w.shape == (200, 5)
    assert (w.sum(1) == 5).all()  # each resample draws as many sessions as there are
    assert np.array_equal(w, resample_weights(5, 200, seed=3))
    assert not np.array_equal(w, resample_weights(5, 200, seed=4))


def test_resampled_sums() -> None:
    per = np.array([SESSION_A, SESSION_B])
    sums = resampled_sums(per, np.array([[2, 0], [1, 1], [0, 2]]))
    assert sums.tolist() == [[2, 0, 2, 0], [4, 0, 1, 1], [6, 0, 0, 2]]


def test_two_session_interval_by_hand() -> None:
    per = np.array([SESSION_A, SESSION_B])
    assert point(per, f1) == pytest.approx(8 / 9)  # tp 4, fn 1
    lo, hi = bootstrap_ci(per, f1, n_resamples=2000, seed=0)
    assert lo == pytest.approx(2 / 3)
    assert hi == pytest.approx(1.0)


def test_constant_sessions_give_a_degenerate_interval() -> None:
    per = np.array([[2, 1, 1, 5]] * 4)
    lo, hi = bootstrap_ci(per, lambda c: micro_prf(c[..., None, :])[2], n_resamples=100, seed=1)
    assert lo == pytest.approx(2 / 3) and hi == pytest.approx(2 / 3)


def test_paired_bootstrap_by_hand() -> None:
    # system A equals B on session 1 and is better on session 2
    a = np.array([SESSION_A, SESSION_B])
    b = np.array([SESSION_A, [2, 0, 1, 1]])
    r = paired_bootstrap(a, b, f1, metric="f1", names=("a", "b"), n_resamples=2000, seed=0)
    assert r.a == pytest.approx(8 / 9) and r.b == pytest.approx(0.75)  # b: tp 3, fn 2 -> 6/8
    assert r.diff == pytest.approx(8 / 9 - 0.75)
    # resamples: {1,1} diff 0; {1,2} diff 8/9 - 3/4; {2,2} diff 1 - 4/5 (b's session 2 has F1 4/5)
    assert r.low == pytest.approx(0.0) and r.high == pytest.approx(1 / 5)
    assert r.a_better == pytest.approx(0.75, abs=0.04)
    assert r.p_value == pytest.approx(0.5, abs=0.08)  # 2 * P(diff <= 0) = 2 * 1/4


def test_paired_bootstrap_of_identical_systems() -> None:
    a = np.array([SESSION_A, SESSION_B, [0, 1, 1, 3]])
    r = paired_bootstrap(a, a.copy(), f1, n_resamples=100, seed=0)
    assert r.diff == 0 and r.low == 0 and r.high == 0 and r.p_value == 1.0 and r.a_better == 0.0


def test_paired_bootstrap_needs_the_same_sessions() -> None:
    with pytest.raises(ValueError, match="same sessions"):
        paired_bootstrap(np.zeros((2, 4)), np.zeros((3, 4)), f1)
