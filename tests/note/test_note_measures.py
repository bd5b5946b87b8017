from __future__ import annotations

import pytest

from tagger.note.measures import RATING, find_measures, parse_number
from tagger.types import TaggedUtterance, Utterance


def session(*lines: tuple[str, str]) -> list[TaggedUtterance]:
    return [TaggedUtterance(Utterance("s", f"u{i}", sp, text), (), {}) for i, (sp, text) in enumerate(lines, 1)]


T, C = "therapist", "client"


@pytest.mark.parametrize(("lines", "expected"), [
    ([(T, "Your PHQ-9 came back at 14 this week, down from 18 last time.")], [("PHQ-9", 14.0, ("u1",))]),
    ([(T, "Your PHQ-9 has come down from eighteen to fifteen since last month.")], [("PHQ-9", 15.0, ("u1",))]),
    ([(T, "What did you get on the PHQ-9?"), (C, "Um, I think fourteen.")], [("PHQ-9", 14.0, ("u1", "u2"))]),
    ([(C, "I scored a 12 on the GAD-7 last time.")], [("GAD-7", 12.0, ("u1",))]),
    ([(T, "The PCL-5 total was 52.")], [("PCL-5", 52.0, ("u1",))]),
    ([(T, "Your AUDIT-C was 8, which is in the risky range.")], [("AUDIT-C", 8.0, ("u1",))]),
    ([(T, "We scored the AUDIT: 19.")], [("AUDIT", 19.0, ("u1",))]),
    # a number that is a time, or out of range, is not a value
    ([(T, "Let's do the PHQ-9 again in 2 weeks.")], [("PHQ-9", None, ("u1",))]),
    ([(T, "Your GAD-7 was 35.")], [("GAD-7", None, ("u1",))]),
    # "audit" as an ordinary word is not the instrument
    ([(C, "We had an audit at work.")], []),
    ([(T, "On a scale of 0 to 10, how important is it for you to cut back?"), (C, "Maybe a seven.")],
     [(RATING, 7.0, ("u1", "u2"))]),
    ([(C, "My anxiety is like a 6 out of 10 right now.")], [(RATING, 6.0, ("u1",))]),
    ([(T, "How would you rate your mood from zero to ten?"), (C, "I dunno, pretty low")], [(RATING, None, ("u1",))]),
    ([(C, "I slept about 5 hours.")], []),
])
def test_measures_and_values(lines: list[tuple[str, str]], expected: list[tuple]) -> None:
    got = [(f.measure, f.value, f.utterance_ids) for f in find_measures(session(*lines))]
    assert got == expected


def test_rating_topic_and_merge() -> None:
    found = find_measures(session((T, "How anxious are you, on a scale of 0 to 10?"), (C, "A 7."),
                                  (T, "Your PHQ-9 is 11."), (C, "PHQ-9 of 11, yes."), (T, "The PHQ-9 helps us.")))
    assert [(f.label, f.value, f.utterance_ids) for f in found] == [
        ("0-10 rating (anxiety)", 7.0, ("u1", "u2")), ("PHQ-9", 11.0, ("u3", "u4"))]


def test_parse_number() -> None:
    assert parse_number("twenty-one") == 21.0
    assert parse_number("Seven") == 7.0
    assert parse_number("7.5") == 7.5
    assert parse_number("lots") is None


def test_previous_value() -> None:
    [f] = find_measures(session((T, "Your GAD-7 went from 16 down to 9.")))
    assert (f.value, f.previous) == (9.0, 16.0)
