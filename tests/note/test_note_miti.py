"""MITI summary scores in the appendix, checked by hand."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from note_helpers import load, sessions

from tagger.note.miti import advice_without_permission, miti_summary
from tagger.types import TaggedUtterance, Utterance


def utt(i: int, speaker: str, *codes: str) -> TaggedUtterance:
    talk = codes[0] if speaker == "client" else None
    return TaggedUtterance(Utterance("s", f"u{i}", speaker, "x"), tuple(codes), {c: 0.9 for c in codes},
                           client_talk=talk)


def test_mi_fixture_by_hand() -> None:
    m = miti_summary(load("mi_alcohol"))
    # reflections: complex u003, simple u011, summary u022 = 3; questions: open u001/u013/u018 + closed u007 = 4
    assert m.r_q == pytest.approx(3 / 4)
    assert m.band("r_q") == "below fair"
    assert m.pct_cr == pytest.approx(1 / 2)  # 1 complex / (1 simple + 1 complex)
    assert m.band("pct_cr") == "good"
    # affirmation u012 + seeking collaboration u007, u020 + autonomy u015
    assert m.mi_adherent == 4
    # confrontation u016 + advice u005 (no permission); advice u009 follows u007's permission request
    assert m.mi_non_adherent == 2
    assert m.confrontations == ("u016",)
    assert m.advice_without_permission == ("u005",)
    assert m.pct_change_talk == pytest.approx(3 / 7)  # 3 change, 4 sustain


def test_permission_rule_same_or_previous_therapist_utterance() -> None:
    items = [
        utt(1, "therapist", "seeking_collaboration"), utt(2, "client", "neutral"),
        utt(3, "therapist", "advice"),  # previous therapist utterance asked permission: with permission
        utt(4, "therapist", "advice"),  # previous therapist utterance is advice: without
        utt(5, "therapist", "advice", "seeking_collaboration"),  # same utterance: with
        utt(6, "client", "change_talk"), utt(7, "therapist", "confrontation"),
    ]
    assert [t.utterance.utterance_id for t in advice_without_permission(items)] == ["u4"]
    m = miti_summary(items)
    assert m.mi_non_adherent == 2 and m.mi_adherent == 2
    assert m.r_q is None and m.pct_cr is None  # no questions, no reflections
    assert m.pct_change_talk == 1.0


@settings(max_examples=60, deadline=None)
@given(items=sessions())
def test_listed_non_adherent_utterances_match_the_evaluation_score(items: list[TaggedUtterance]) -> None:
    """The appendix lists the utterances behind tagger.evaluation.miti's count: the two must not drift."""
    m = miti_summary(items)
    assert len(m.confrontations) + len(m.advice_without_permission) == m.mi_non_adherent
