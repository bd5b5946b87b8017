"""Fleiss' kappa, ICC and Pearson against published and hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.evaluation.agreement import fleiss_kappa, icc, pearson

# Fleiss (1971) worked example as given on Wikipedia ("Fleiss' kappa"): 10 items, 14 raters, 5 categories
WIKI = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]])


def test_fleiss_kappa_published_example() -> None:
    assert fleiss_kappa(WIKI) == pytest.approx(0.210, abs=5e-4)


def test_fleiss_kappa_by_hand() -> None:
    # 3 items, 2 raters: agree, agree, disagree; P_bar = 2/3; p = (3/6, 3/6); Pe = 1/2
    assert fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])) == pytest.approx((2 / 3 - 1 / 2) / (1 / 2))
    # items with different numbers of raters: P_i = 1 and (0 + 0 + 2*1... ) see formula
    t = np.array([[3, 0], [1, 1]])  # P_1 = (9-3)/6 = 1, P_2 = (2-2)/2 = 0; p = (4/5, 1/5)
    assert fleiss_kappa(t) == pytest.approx((0.5 - (0.64 + 0.04)) / (1 - 0.68))
    with pytest.raises(ValueError, match="two ratings"):
        fleiss_kappa(np.array([[1, 0]]))


def test_icc_published_example() -> None:
    assert icc(SHROUT_FLEISS, "1,1") == pytest.approx(0.17, abs=0.005)
    assert icc(SHROUT_FLEISS, "2,1") == pytest.approx(0.29, abs=0.005)
    assert icc(SHROUT_FLEISS, "3,1") == pytest.approx(0.71, abs=0.005)


def test_icc_by_hand() -> None:
    # targets (1,2), (2,4), (3,3): grand 2.5; rows 1.5, 3, 3; cols 2, 3
    # SSR = 2*(1+.25+.25) = 3 -> MSR 1.5; SSC = 3*(.25+.25) = 1.5 -> MSC 1.5
    # SST = 2.25+.25+.25+2.25+.25+.25 = 5.5; SSE = 1 -> MSE 0.5
    x = np.array([[1, 2], [2, 4], [3, 3]])
    assert icc(x, "3,1") == pytest.approx((1.5 - 0.5) / (1.5 + 0.5))
    assert icc(x, "2,1") == pytest.approx((1.5 - 0.5) / (1.5 + 0.5 + 2 * (1.5 - 0.5) / 3))
    # a constant offset costs absolute agreement but not consistency
    y = np.array([[1, 3], [2, 4], [5, 7]])
    assert icc(y, "3,1") == pytest.approx(1.0)
    assert icc(y, "2,1") < 1.0
    with pytest.raises(ValueError, match="kind"):
        icc(x, "4,1")
    with pytest.raises(ValueError, match="missing"):
        icc(np.array([[1, np.nan], [2, 3]]))


def test_pearson_by_hand_and_numpy() -> None:
    assert pearson([1, 2, 3], [2, 4, 7]) == pytest.approx(5 / np.sqrt(2 * 12.666666666666666))
    rng = np.random.default_rng(0)
    a, b = rng.random(30), rng.random(30)
    assert pearson(a, b) == pytest.approx(np.corrcoef(a, b)[0, 1])
    assert np.isnan(pearson([1, 1, 1], [1, 2, 3]))
    assert np.isnan(pearson([1], [2]))
