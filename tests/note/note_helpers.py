"""Shared helpers of the note tests (a plain module: conftest names clash across test folders)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

from tagger.io.writers import read_tagged_jsonl
from tagger.taxonomy import load_taxonomy
from tagger.types import TaggedUtterance, Utterance

FIXTURES = Path(__file__).parent / "fixtures"
SESSIONS = ("cbt_depression", "mi_alcohol", "risk_unassessed")


def load(name: str) -> list[TaggedUtterance]:
    return read_tagged_jsonl(FIXTURES / f"{name}.jsonl")


TAX = load_taxonomy()
CODES = TAX.predictable_therapist_ids
# codes with rules of their own (risk follow-up, denials, permission for advice) drawn more often
FOCUS = ("risk_assessment", "safety_planning", "advice", "seeking_collaboration", "confrontation", "homework")
VERBS = {c.id: c.verb for c in TAX.therapist}
THERAPIST_LINES = [
    "How have things been this week?", "Have you had any thoughts of ending your life?",
    "Your PHQ-9 was 12 today.", "On a scale of 0 to 10, how anxious are you?", "It sounds like that hurt.",
    "Could you try a thought record before next week?", "Would it be okay if I made a suggestion?",
    "You should stop drinking.", "Let's write down who you can call in a crisis.", "Mm-hmm.",
]
CLIENT_LINES = [
    "No, never.", "No, nothing like that.", "No, but sometimes I wish I could disappear.", "I want to change this.",
    "I don't see the point in trying.", "Sometimes I think everyone would be better off without me.", "About a 6.",
    "Fourteen, I think.", "It was fine.", "I'll try the worksheet.",
]


@st.composite
def sessions(draw: st.DrawFn) -> list[TaggedUtterance]:
    n = draw(st.integers(1, 30))
    timed = draw(st.booleans())
    t = 0.0
    out = []
    for i in range(n):
        speaker = draw(st.sampled_from(["therapist", "client"]))
        lines = st.sampled_from(THERAPIST_LINES if speaker == "therapist" else CLIENT_LINES)
        text = draw(st.one_of(lines, lines, lines, st.text(min_size=1, max_size=60)))
        dur = draw(st.floats(0.5, 20))
        start, end = (t, t + dur) if timed else (None, None)
        t += dur
        if speaker == "therapist":
            code = st.one_of(st.sampled_from(CODES), st.sampled_from(FOCUS))
            codes = tuple(draw(st.lists(code, max_size=3, unique=True))) or ("other",)
            scores = {c: draw(st.floats(0.0, 1.0)) for c in codes if c != "other"}
            talk, risk = None, False
        else:
            talk = draw(st.sampled_from(["change_talk", "sustain_talk", "neutral"]))
            risk = draw(st.booleans()) and draw(st.booleans())
            codes = (talk,) + (("risk_indicator",) if risk else ())
            scores = {c: draw(st.floats(0.0, 1.0)) for c in codes}
        review = tuple(c for c in codes if c != "other" and draw(st.booleans()) and draw(st.booleans()))
        evidence = {c: text[: max(1, len(text) // 2)] for c in codes if draw(st.booleans()) and c != "other"}
        out.append(TaggedUtterance(Utterance("sess", f"u{i}", speaker, text, start=start, end=end), codes, scores,
                                   client_talk=talk, risk_indicator=risk, evidence=evidence, review=review))
    return out
