"""Metric functions against hand-computed values, and against scikit-learn where they overlap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, cohen_kappa_score, f1_score, precision_recall_fscore_support
from sklearn.metrics import confusion_matrix as sk_confusion

from tagger.evaluation.metrics import (
    NONE_LABEL,
    accuracy,
    average_precision,
    binary_counts,
    binary_kappa,
    confusion_counts,
    confusion_matrix,
    label_scores,
    macro_f1,
    micro_prf,
    multiclass_kappa,
    precision_recall_f1,
)

# gold / pred of 2 codes on 5 utterances; code 1 is not observed on utterance 4
GOLD = np.array([[1, 0], [1, 1], [0, 0], [0, 1], [1, 1]], dtype=bool)
PRED = np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]], dtype=bool)
MASK = np.array([[1, 1], [1, 1], [1, 1], [1, 1], [1, 0]], dtype=bool)


def test_binary_counts_by_hand() -> None:
    c = binary_counts(GOLD, PRED, MASK)
    # code 0: tp utt0, utt4; fn utt1; fp utt2; tn utt3
    assert c[0].tolist() == [2, 1, 1, 1]
    # code 1 (utt4 masked): tp utt1, utt3; tn utt0, utt2
    assert c[1].tolist() == [2, 0, 0, 2]


def test_precision_recall_f1_by_hand() -> None:
    p, r, f = precision_recall_f1(np.array([[2, 1, 1, 1], [2, 0, 0, 2], [0, 0, 3, 2], [0, 0, 0, 5]]))
    assert p[0] == pytest.approx(2 / 3) and r[0] == pytest.approx(2 / 3) and f[0] == pytest.approx(2 / 3)
    assert (p[1], r[1], f[1]) == (1.0, 1.0, 1.0)
    assert np.isnan(p[2]) and r[2] == 0.0 and f[2] == 0.0  # nothing predicted: precision undefined, F1 0
    assert np.isnan(p[3]) and np.isnan(r[3]) and np.isnan(f[3])  # label absent everywhere


def test_binary_kappa_by_hand() -> None:
    # tp=2 fp=1 fn=1 tn=1: po = 3/5, pe = (3*3 + 2*2)/25 = 13/25, kappa = (15-13)/(25-13) = 1/6
    assert binary_kappa(np.array([2, 1, 1, 1])) == pytest.approx(1 / 6)
    assert binary_kappa(np.array([2, 0, 0, 2])) == pytest.approx(1.0)
    assert np.isnan(binary_kappa(np.array([0, 0, 0, 4])))  # both raters say "no" always


def test_micro_macro_by_hand() -> None:
    c = np.array([[2, 1, 1, 1], [2, 0, 0, 2], [0, 0, 0, 5]])
    p, r, f = micro_prf(c)  # tp 4, fp 1, fn 1
    assert (p, r, f) == (pytest.approx(0.8), pytest.approx(0.8), pytest.approx(0.8))
    assert macro_f1(c) == pytest.approx((2 / 3 + 1) / 2)  # the absent label is left out
    assert macro_f1(c, np.array([True, False, False])) == pytest.approx(2 / 3)


def test_count_functions_broadcast_over_resamples() -> None:
    c = np.array([[[2, 1, 1, 1], [2, 0, 0, 2]], [[4, 2, 2, 2], [0, 0, 1, 9]]])  # (B=2, K=2, 4)
    assert micro_prf(c)[2].tolist() == pytest.approx([0.8, 8 / 13])
    assert macro_f1(c).tolist() == pytest.approx([(2 / 3 + 1) / 2, (2 / 3 + 0) / 2])


def test_confusion_matrix_and_multiclass_by_hand() -> None:
    gold = ["q", "q", "r", "o"]
    pred = ["q", "q", "r", None]
    labels = ["q", "r", "o", NONE_LABEL]
    cm = confusion_matrix(gold, pred, labels)
    assert cm.tolist() == [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert accuracy(cm) == pytest.approx(0.75)
    # po = 3/4; rows 2,1,1,0; cols 2,1,0,1: pe = (4 + 1 + 0 + 0)/16; kappa = (12-5)/(16-5)
    assert multiclass_kappa(cm) == pytest.approx(7 / 11)
    counts = confusion_counts(cm)
    assert counts[2].tolist() == [0, 0, 1, 3]  # "o": missed once
    present = np.array([True, True, True, False])
    assert macro_f1(counts, present) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="not one of"):
        confusion_matrix(["x"], ["q"], labels)


def test_label_scores() -> None:
    s = label_scores(["a", "b"], np.array([[2, 1, 1, 1], [0, 0, 0, 5]]))
    assert s[0].support == 3 and s[0].predicted == 3 and s[0].n == 5 and s[0].kappa == pytest.approx(1 / 6)
    assert s[1].f1 is None and s[1].precision is None and s[1].kappa is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_binary_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    g = rng.random((60, 5)) < 0.3
    p = rng.random((60, 5)) < 0.35
    c = binary_counts(g, p)
    prec, rec, f = precision_recall_f1(c)
    for k in range(5):
        sp, sr, sf, _ = precision_recall_fscore_support(g[:, k], p[:, k], average="binary", zero_division=np.nan)
        assert prec[k] == pytest.approx(sp, nan_ok=True)
        assert rec[k] == pytest.approx(sr, nan_ok=True)
        assert f[k] == pytest.approx(sf, nan_ok=True)
        assert binary_kappa(c[k]) == pytest.approx(cohen_kappa_score(g[:, k], p[:, k]))
    assert micro_prf(c)[2] == pytest.approx(f1_score(g, p, average="micro"))
    assert macro_f1(c) == pytest.approx(f1_score(g, p, average="macro", zero_division=0))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multiclass_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = ["question", "reflection", "therapist_input", "other"]
    gold = list(rng.choice(labels, 80))
    pred = [g if rng.random() < 0.6 else str(rng.choice(labels)) for g in gold]
    cm = confusion_matrix(gold, pred, labels)
    assert cm.tolist() == sk_confusion(gold, pred, labels=labels).tolist()
    assert multiclass_kappa(cm) == pytest.approx(cohen_kappa_score(gold, pred))
    present = np.ones(4, dtype=bool)
    assert macro_f1(confusion_counts(cm), present) == pytest.approx(
        f1_score(gold, pred, average="macro", labels=labels)
    )
    assert accuracy(cm) == pytest.approx(np.mean(np.array(gold) == np.array(pred)))


def test_average_precision_by_hand_and_against_sklearn() -> None:
    # ranks 1 and 3 hold the positives: precision 1 and 2/3 there
    assert average_precision(np.array([0.9, 0.8, 0.7, 0.6]), np.array([1, 0, 1, 0])) == pytest.approx(5 / 6)
    assert average_precision(np.array([0.5, 0.5]), np.array([1, 0])) == 0.5  # a tie enters together
    assert np.isnan(average_precision(np.array([0.2, 0.4]), np.array([0, 0])))
    rng = np.random.default_rng(0)
    for _ in range(20):
        scores = rng.integers(0, 8, 60) / 8  # many ties
        y = rng.random(60) < 0.2
        if y.any():
            assert average_precision(scores, y) == pytest.approx(average_precision_score(y, scores))
    with pytest.raises(ValueError, match="3 scores but 2 outcomes"):
        average_precision(np.zeros(3), np.zeros(2))
