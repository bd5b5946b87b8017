"""The whole harness on the hand-written fixtures; every expected value is worked out by hand.

gold_codes.csv (2 sessions) vs pred_a.jsonl:

    s1/0 T open_question                      pred open_question          main question -> question
    s1/1 C neutral                            pred neutral
    s1/2 T complex_reflection                 pred simple_reflection      main reflection -> reflection
    s1/3 C change_talk                        pred change_talk
    s1/4 T closed_question;seeking_collab.    pred closed_question        main: none (mixed groups)
    s2/0 T other                              pred other                  main other -> (no prediction)
    s2/1 C neutral;risk_indicator             pred neutral + risk
    s2/2 T closed_question;risk_assessment    pred the same               main question -> question
    s2/3 C sustain_talk                       pred neutral

pred_b.jsonl equals pred_a except s2/2 (misses risk_assessment) and s2/3 (sustain_talk, right).
"""

from __future__ import annotations

import pytest

from tagger.evaluation.align import read_predictions
from tagger.evaluation.harness import evaluate
from tagger.evaluation.results import EvalOptions, SystemResult
from tagger.io.labeled import LabeledSession, read_labeled
from tagger.types import TaggedUtterance


def by_label(r: SystemResult) -> dict:
    return {s.label: s for s in r.therapist_codes + r.client_codes}


@pytest.fixture
def result(gold: list[LabeledSession], pred_a: list[TaggedUtterance], pred_b: list[TaggedUtterance]):
    return evaluate(gold, {"a": pred_a, "b": pred_b}, options=EvalOptions(n_resamples=1000, seed=0))


def test_per_code_scores(result) -> None:
    a = result.systems[0]
    s = by_label(a)
    # 'other' is never a scored code; the 36 predictable therapist codes are observed
    assert "other" not in s and len(a.therapist_codes) == 36
    assert (s["open_question"].f1, s["closed_question"].f1, s["risk_assessment"].f1) == (1.0, 1.0, 1.0)
    assert s["closed_question"].support == 2 and s["closed_question"].n == 5
    sr, cr = s["simple_reflection"], s["complex_reflection"]
    assert (sr.precision, sr.recall, sr.f1, sr.kappa) == (0.0, None, 0.0, 0.0)
    assert (cr.precision, cr.recall, cr.f1, cr.kappa) == (None, 0.0, 0.0, 0.0)
    assert s["affirmation"].f1 is None  # in neither gold nor prediction
    n = s["neutral"]  # gold neutral x2, predicted x3: P 2/3, R 1; kappa (3/4 - 1/2) / (1/2)
    assert (n.precision, n.recall, n.f1, n.kappa) == (pytest.approx(2 / 3), 1.0, pytest.approx(0.8), pytest.approx(0.5))
    assert (s["sustain_talk"].f1, s["risk_indicator"].f1, s["risk_indicator"].n) == (0.0, 1.0, 4)
    # average precision from the scores: risk 0.9 on the one risk row, lower on the three others
    assert s["risk_indicator"].average_precision == 1.0 and s["closed_question"].average_precision == 1.0
    assert s["simple_reflection"].average_precision is None  # no gold positive
    assert s["affirmation"].average_precision is None  # never scored


def test_averages_with_session_bootstrap(result) -> None:
    th, cl = result.systems[0].averages
    # therapist: tp 4 (open, closed x2, risk_assessment), fp 1 (simple), fn 2 (complex, seeking)
    assert (th.micro_precision, th.micro_recall, th.micro_f1) == (0.8, pytest.approx(2 / 3), pytest.approx(8 / 11))
    assert th.n_codes == 6 and th.macro_f1 == pytest.approx(3 / 6)
    # two sessions: the CI runs from {s1, s1} (F1 4/7) to {s2, s2} (F1 1)
    assert (th.micro_f1_low, th.micro_f1_high) == (pytest.approx(4 / 7), pytest.approx(1.0))
    # client: change, sustain, neutral, risk -> F1 1, 0, 0.8, 1
    assert cl.micro_f1 == pytest.approx(0.8) and cl.macro_f1 == pytest.approx(0.7)


def test_main_behaviour_and_client_talk(result) -> None:
    mb = result.systems[0].main_behaviour
    assert mb.n == 4 and mb.missing == 1  # s1/4 has no gold main behaviour; s2/0 no prediction
    assert mb.labels[-1] == "(none)"
    assert mb.confusion[3] == (0, 0, 0, 0, 1)  # gold other -> no prediction
    assert mb.accuracy == 0.75
    assert mb.kappa == pytest.approx(7 / 11)  # po 3/4, pe 5/16
    assert mb.macro_f1 == pytest.approx(2 / 3)  # question 1, reflection 1, other 0
    ct = result.systems[0].client_talk
    assert ct.confusion == ((1, 0, 0), (0, 0, 1), (0, 0, 2))
    assert ct.macro_f1 == pytest.approx(0.6) and ct.kappa == pytest.approx(5 / 9) and ct.accuracy == 0.75


def test_calibration(result) -> None:
    cal = {c.name: c for c in result.systems[0].calibration}
    assert cal["therapist"].n == 8 and cal["therapist"].ece == pytest.approx(0.34375)
    assert cal["therapist"].brier == pytest.approx(0.1740625)
    # 16 client events; per-bin |frequency - confidence| weighted by bin size
    assert cal["client"].n == 16 and cal["client"].ece == pytest.approx(0.215625)
    assert cal["all"].n == 24


def test_miti_session_scores(result) -> None:
    a = result.systems[0]
    s1, s2 = a.miti_sessions
    assert s1.gold == {"r_q": 0.5, "pct_cr": 1.0, "mi_adherent": 1.0, "mi_non_adherent": 0.0, "pct_change_talk": 1.0}
    assert s1.pred == {"r_q": 0.5, "pct_cr": 0.0, "mi_adherent": 0.0, "mi_non_adherent": 0.0, "pct_change_talk": 1.0}
    assert s2.gold["r_q"] == 0.0 and s2.gold["pct_cr"] is None and s2.pred["pct_change_talk"] is None
    m = {x.score: x for x in a.miti}
    assert m["r_q"].n_sessions == 2 and m["r_q"].icc_2_1 == pytest.approx(1.0) and m["r_q"].mae == 0.0
    assert m["mi_adherent"].icc_2_1 == pytest.approx(0.0) and m["mi_adherent"].pearson is None
    assert m["pct_cr"].n_sessions == 1 and m["pct_cr"].icc_2_1 is None


def test_per_session_breakdown(result) -> None:
    s1, s2 = result.systems[0].per_session
    assert (s1.key, s1.n_utterances, s1.therapist_micro_f1) == ("s1", 5, pytest.approx(4 / 7))
    assert s2.therapist_micro_f1 == 1.0 and s2.main_macro_f1 == pytest.approx(0.5)
    assert result.systems[0].per_topic == ()  # the codes CSV has no topics


def test_paired_comparison(result) -> None:
    c = {x.metric: x for x in result.comparisons}
    t = c["therapist_micro_f1"]
    assert (t.system_a, t.system_b) == ("a", "b")
    assert t.a == pytest.approx(8 / 11) and t.b == pytest.approx(0.6)  # b: tp 3, fp 1, fn 3
    # {s1, s1}: no difference; {s2, s2}: 1 - 2/3
    assert (t.low, t.high) == (pytest.approx(0.0), pytest.approx(1 / 3))
    assert t.p_value == pytest.approx(0.5, abs=0.08)
    assert c["client_talk_macro_f1"].diff == pytest.approx(0.6 - 1.0)
    assert c["main_behaviour_macro_f1"].diff == 0.0


def test_same_seed_same_numbers(gold, pred_a) -> None:
    a = evaluate(gold, {"a": pred_a}, options=EvalOptions(n_resamples=200, seed=5))
    b = evaluate(gold, {"a": pred_a}, options=EvalOptions(n_resamples=200, seed=5))
    assert a == b


def test_no_bootstrap(gold, pred_a, pred_b) -> None:
    ev = evaluate(gold, {"a": pred_a, "b": pred_b}, options=EvalOptions(n_resamples=0))
    assert ev.systems[0].averages[0].micro_f1_low is None and ev.comparisons == ()


ANNOMI_FULL_MULTI = """\
mi_quality,transcript_id,video_title,video_url,topic,utterance_id,interlocutor,timestamp,utterance_text,annotator_id,therapist_input_exists,therapist_input_subtype,reflection_exists,reflection_subtype,question_exists,question_subtype,main_therapist_behaviour,client_talk_type
high,7,Invented demo A,https://example.org/a,smoking cessation,0,therapist,00:00:01,How have things been with the smoking?,1,False,n/a,False,n/a,True,open,question,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,1,client,00:00:04,I've cut down a bit.,1,n/a,n/a,n/a,n/a,n/a,n/a,n/a,change
high,7,Invented demo A,https://example.org/a,smoking cessation,2,therapist,00:00:06,You've made a start.,1,False,n/a,True,simple,False,n/a,reflection,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,3,client,00:00:08,But I still need one with my coffee.,1,n/a,n/a,n/a,n/a,n/a,n/a,n/a,sustain
high,7,Invented demo A,https://example.org/a,smoking cessation,4,therapist,00:00:11,Some people find patches help.,1,True,information,False,n/a,False,n/a,therapist_input,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,5,therapist,00:00:14,Okay.,1,False,n/a,False,n/a,False,n/a,other,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,0,therapist,00:00:01,How have things been with the smoking?,2,False,n/a,False,n/a,True,open,question,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,1,client,00:00:04,I've cut down a bit.,2,n/a,n/a,n/a,n/a,n/a,n/a,n/a,change
high,7,Invented demo A,https://example.org/a,smoking cessation,2,therapist,00:00:06,You've made a start.,2,False,n/a,True,complex,False,n/a,reflection,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,3,client,00:00:08,But I still need one with my coffee.,2,n/a,n/a,n/a,n/a,n/a,n/a,n/a,neutral
high,7,Invented demo A,https://example.org/a,smoking cessation,4,therapist,00:00:11,Some people find patches help.,2,True,advice,False,n/a,False,n/a,therapist_input,n/a
high,7,Invented demo A,https://example.org/a,smoking cessation,5,therapist,00:00:14,Okay.,2,False,n/a,False,n/a,False,n/a,other,n/a
low,8,Invented demo B,https://example.org/b,reducing alcohol consumption,0,therapist,00:00:02,What would you like to talk about?,3,False,n/a,False,n/a,True,open,question,n/a
low,8,Invented demo B,https://example.org/b,reducing alcohol consumption,1,client,"00:00:05","My drinking, I guess.",3,n/a,n/a,n/a,n/a,n/a,n/a,n/a,neutral
"""  # invented rows in AnnoMI-full's columns (no AnnoMI text)


def test_human_ceiling_on_annomi_full(fixtures, tmp_path) -> None:
    """ANNOMI_FULL_MULTI: transcript 7 coded by annotators 1 and 2, transcript 8 by 3.

    Annotators disagree on u2 (simple vs complex), u3 (sustain vs neutral), u4 (information vs
    advice). The model says open, change, complex, neutral, information, and question for "Okay."
    """
    (tmp_path / "annomi_full_multi.csv").write_text(ANNOMI_FULL_MULTI, encoding="utf-8")
    gold = read_labeled(tmp_path / "annomi_full_multi.csv")
    ev = evaluate(gold, {"m": read_predictions(fixtures / "pred_annomi.jsonl")}, options=EvalOptions(n_resamples=0))
    r = ev.systems[0]
    assert [c.label for c in r.therapist_codes] == [
        "open_question",
        "closed_question",
        "simple_reflection",
        "complex_reflection",
        "seeking_collaboration",
        "giving_information",
        "advice",
    ]  # only what AnnoMI annotates
    h = {(row.task, row.metric): row for row in r.human_ceiling.rows}
    assert r.human_ceiling.n_sessions == 1 and r.human_ceiling.annotators == ("1", "2")
    mk = h[("main_behaviour", "kappa")]
    assert (mk.human, mk.model, mk.human_n, mk.model_n) == (1.0, pytest.approx(2 / 3), 4, 8)
    assert h[("main_behaviour", "agreement")].model == 0.75
    assert h[("main_behaviour", "fleiss_kappa")].human == 1.0
    ck = h[("client_talk", "kappa")]
    assert (ck.human, ck.model) == (pytest.approx(1 / 3), pytest.approx(0.6))
    tc = h[("therapist_codes", "micro_f1")]
    assert (tc.human, tc.model) == (pytest.approx(1 / 3), pytest.approx(2 / 3))
    assert h[("therapist_codes", "macro_f1")].model == pytest.approx(7 / 15)
    assert h[("therapist_codes", "mean_kappa")].human == pytest.approx(0.2)
    assert h[("therapist_codes", "mean_kappa")].model == pytest.approx(0.44)
    # topics from AnnoMI give a per-topic breakdown; gold labels are annotator 1's
    assert [b.key for b in r.per_topic] == ["reducing alcohol consumption", "smoking cessation"]
    assert r.main_behaviour.accuracy == pytest.approx(4 / 5)
    assert r.client_talk.confusion == ((1, 0, 0), (0, 0, 1), (0, 0, 1))
