"""Session MITI summary scores and predicted-vs-gold agreement, by hand."""

from __future__ import annotations

import pytest

from tagger.evaluation.miti import score_agreement, summary_scores

ALL = frozenset(
    {
        "open_question",
        "closed_question",
        "simple_reflection",
        "complex_reflection",
        "summary",
        "affirmation",
        "seeking_collaboration",
        "emphasizing_autonomy",
        "confrontation",
        "advice",
        "giving_information",
    }
)


def fs(*codes: str) -> frozenset[str]:
    return frozenset(codes)


def test_summary_scores_by_hand() -> None:
    therapist = [
        fs("open_question"),
        fs("simple_reflection"),
        fs("complex_reflection", "affirmation"),
        fs("summary"),
        fs("closed_question"),
        fs("advice"),  # no permission asked: non-adherent
        fs("seeking_collaboration"),  # asks permission ...
        fs("advice"),  # ... so this advice is with permission
        fs("advice", "seeking_collaboration"),  # permission in the same turn
        fs("confrontation"),
    ]
    talk = ["change_talk", "neutral", "sustain_talk", "change_talk", "change_talk", None]
    s = summary_scores(therapist, talk, ALL)
    assert s["r_q"] == pytest.approx(3 / 2)  # SR + CR + summary over OQ + CQ
    assert s["pct_cr"] == pytest.approx(1 / 2)
    assert s["mi_adherent"] == 3.0  # affirmation + 2 seeking collaboration
    assert s["mi_non_adherent"] == 2.0  # one unpermitted advice + confrontation
    assert s["pct_change_talk"] == pytest.approx(3 / 4)


def test_undefined_and_unobserved_scores() -> None:
    s = summary_scores([fs("other")], ["neutral"], ALL)
    assert s["r_q"] is None and s["pct_cr"] is None and s["pct_change_talk"] is None
    assert s["mi_adherent"] == 0.0
    # AnnoMI-like gold: no summary/affirmation/confrontation codes; only what is observed counts
    annomi = frozenset(
        {
            "open_question",
            "closed_question",
            "simple_reflection",
            "complex_reflection",
            "giving_information",
            "advice",
            "seeking_collaboration",
        }
    )
    s = summary_scores([fs("summary"), fs("open_question"), fs("affirmation")], [], annomi, talk_observed=False)
    assert s["r_q"] == 0.0  # the summary is not counted: the gold could not have coded it
    assert s["mi_adherent"] == 0.0
    assert s["pct_change_talk"] is None
    assert summary_scores([fs("open_question")], [], frozenset({"open_question"}))["r_q"] is None


def test_score_agreement_by_hand() -> None:
    a = score_agreement("r_q", [0.5, 0.0, None, 2.0], [0.5, 0.0, 1.0, None], ALL)
    assert a.n_sessions == 2 and a.mae == 0.0 and a.pearson == pytest.approx(1.0) and a.icc_2_1 == pytest.approx(1.0)
    assert not a.partial
    # (1, 0), (0, 0): MSR = MSC = MSE = 0.25 -> ICC 0; the prediction is constant -> r undefined
    b = score_agreement("mi_adherent", [1.0, 0.0], [0.0, 0.0], frozenset({"seeking_collaboration"}))
    assert b.icc_2_1 == pytest.approx(0.0) and b.icc_3_1 == pytest.approx(0.0) and b.pearson is None
    assert b.partial and b.codes_used == ("seeking_collaboration",)
    assert b.gold_mean == 0.5 and b.pred_mean == 0.0 and b.mae == 0.5
