"""Expected calibration error with equal-width bins, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.evaluation.calibration import bin_index, expected_calibration_error, reliability


def test_bin_edges() -> None:
    # [0, .1) -> 0, [.1, .2) -> 1, ..., 1.0 joins the last bin; decimal edges land in the upper bin
    p = np.array([0.0, 0.05, 0.1, 0.3, 0.7, 0.95, 0.9999, 1.0])
    assert bin_index(p, 10).tolist() == [0, 0, 1, 3, 7, 9, 9, 9]
    assert bin_index(np.array([0.49, 0.5]), 2).tolist() == [0, 1]
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bin_index(np.array([1.2]))


def test_ece_by_hand() -> None:
    probs = [0.9, 0.2, 0.6, 0.4, 0.7, 0.3, 0.8, 0.95]
    hits = [1, 0, 0, 1, 1, 1, 1, 1]
    # one event per bin except bin 9 (0.9 and 0.95, both hits: mean 0.925, frequency 1)
    expected = (0.2 + 0.7 + 0.6 + 0.6 + 0.3 + 0.2) / 8 + 2 / 8 * 0.075
    assert expected_calibration_error(np.array(probs), np.array(hits)) == pytest.approx(expected)  # 0.34375
    cal = reliability(np.array(probs), np.array(hits))
    assert cal.n == 8
    assert cal.brier == pytest.approx((0.01 + 0.04 + 0.36 + 0.36 + 0.09 + 0.49 + 0.04 + 0.0025) / 8)
    last = cal.bins[9]
    assert (last.count, last.confidence, last.frequency) == (2, pytest.approx(0.925), 1.0)
    assert cal.bins[0].count == 0 and cal.bins[0].confidence is None


def test_two_bins_by_hand() -> None:
    # bin 0: .1 (0), .3 (1) -> conf .2, freq .5; bin 1: .6 (1), .8 (1), 1.0 (0) -> conf .8, freq 2/3
    ece = expected_calibration_error(np.array([0.1, 0.3, 0.6, 0.8, 1.0]), np.array([0, 1, 1, 1, 0]), n_bins=2)
    assert ece == pytest.approx(2 / 5 * 0.3 + 3 / 5 * abs(2 / 3 - 0.8))


def test_perfect_calibration_is_zero() -> None:
    assert expected_calibration_error(np.array([0.0, 0.0, 1.0]), np.array([0, 0, 1])) == 0.0
