"""Standardized measures and 0-10 ratings mentioned in a session, with values when stated.

Pure regular expressions over therapist and client utterances; every finding cites the
utterance(s) it comes from. A value is taken only when it is stated next to the measure
("PHQ-9 was 14", "scored 12 on the GAD-7", "a 7 out of 10") or, when the measure is asked
about, as a bare number at the start of the other speaker's next utterance; it must lie in the
measure's range. Anything less certain is reported as "mentioned, no value stated".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tagger.types import TaggedUtterance

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
WORD_NUMBERS: dict[str, int] = {w: i for i, w in enumerate(_UNITS)}
for _t, _tw in enumerate(_TENS):
    if _tw:
        WORD_NUMBERS[_tw] = _t * 10
        for _u in range(1, 10):
            WORD_NUMBERS[f"{_tw}-{_UNITS[_u]}"] = _t * 10 + _u
            WORD_NUMBERS[f"{_tw} {_UNITS[_u]}"] = _t * 10 + _u

_WORDS = "|".join(sorted((re.escape(w) for w in WORD_NUMBERS), key=len, reverse=True))
NUM = rf"(?:\d{{1,2}}(?:\.5)?|{_WORDS})"
# a number followed by one of these is a quantity, not a score
_TIME_UNIT = (r"(?!\s*(?:%|percent|seconds?|minutes?|hours?|days?|weeks?|months?|years?|times?|sessions?|items?|"
              r"questions?|drinks?|mg|am|pm)\b)")


@dataclass(frozen=True)
class Instrument:
    name: str
    pattern: str
    low: int
    high: int
    flags: int = re.IGNORECASE


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("PHQ-9", r"\bPHQ[\s-]?(?:9|nine)\b", 0, 27),
    Instrument("GAD-7", r"\bGAD[\s-]?(?:7|seven)\b", 0, 21),
    Instrument("PCL-5", r"\bPCL[\s-]?(?:5|five)\b", 0, 80),
    Instrument("AUDIT-C", r"\bAUDIT[\s-]?C\b", 0, 12, 0),
    # upper-case only: "audit" is an ordinary word
    Instrument("AUDIT", r"\bAUDIT\b(?![\s-]?C\b)", 0, 40, 0),
)
RATING = "0-10 rating"

# words allowed between an instrument and its value: "PHQ-9 score today was 14", "PHQ-9 came back at 12"
_LINK = r"(?:\s*(?:score|scores|scored|total|result|results|today|this|time|week|was|is|'s|of|at|came|back|out|in|as|" \
        r"a|an|about|around|roughly|showed|shows|=|:|-|—|–|,|you|i|got|your|my|his|her|their|now|down|up|went|" \
        r"to|from)\b\s*" \
        r"|\s*[=:,—–-]\s*){0,6}"
_SCALE = re.compile(r"\bscale\s+(?:of|from)\s+(?:0|zero|1|one)\s*(?:to|-|–|through|and)\s*(?:10|ten)\b"
                    r"|\b(?:0|zero)\s*(?:to|-|–)\s*(?:10|ten)\b", re.IGNORECASE)
_OUT_OF_TEN = re.compile(rf"\b({NUM})\s*(?:out\s+of|outta|/)\s*(?:10|ten)\b", re.IGNORECASE)
_ANSWER = re.compile(rf"^\W*(?:(?:um+|uh+|hmm+|so|well|oh|i'd say|i would say|i think|i guess|maybe|probably|it was|"
                     rf"it's|i got|i'm at|about|around|like|a|an|at|yeah|honestly|right now|today),?\s+){{0,5}}"
                     rf"({NUM}){_TIME_UNIT}\b", re.IGNORECASE)
_TOPICS: tuple[tuple[str, str], ...] = (
    ("importance", r"\bimportan"), ("confidence", r"\bconfiden"), ("readiness", r"\bread(?:y|iness)\b"),
    ("anxiety", r"\banx"), ("distress", r"\b(?:distress|suds|upset)"), ("mood", r"\b(?:mood|depress|down|sad)"),
    ("urge/craving", r"\b(?:urge|crav)"), ("pain", r"\bpain\b"), ("sleep", r"\bsleep"), ("stress", r"\bstress"),
    ("motivation", r"\bmotivat"), ("hopefulness", r"\bhope"), ("safety", r"\bsafe"), ("anger", r"\bang(?:er|ry)"),
)


@dataclass(frozen=True)
class MeasureFinding:
    """A measure mentioned in the session and, when stated, its value."""

    measure: str  # "PHQ-9", ..., or "0-10 rating"
    value: float | None
    low: int
    high: int
    utterance_ids: tuple[str, ...]  # the mention, then the utterance stating the value if different
    topic: str | None = None  # what a 0-10 rating rates, when named ("anxiety", "importance")
    previous: float | None = None  # an earlier value stated with it ("down from 18 to 15")

    @property
    def label(self) -> str:
        return f"{self.measure} ({self.topic})" if self.topic else self.measure


def parse_number(token: str) -> float | None:
    t = token.strip().lower()
    if t in WORD_NUMBERS:
        return float(WORD_NUMBERS[t])
    try:
        return float(t)
    except ValueError:
        return None


def _in_range(v: float | None, lo: int, hi: int) -> float | None:
    return v if v is not None and lo <= v <= hi else None


_FROM_TO = re.compile(rf"\s*(?:[\w']+\s+){{0,4}}?from\s+(?:a\s+)?({NUM})\s+(?:down\s+|up\s+)?to\s+(?:a\s+)?({NUM})\b",
                      re.IGNORECASE)


def _change_near(text: str, m: re.Match[str], inst: Instrument) -> tuple[float, float] | None:
    """``(previous, current)`` from "PHQ-9 has come down from eighteen to fifteen"."""
    ft = _FROM_TO.match(text[m.end():])
    if not ft:
        return None
    prev, cur = (_in_range(parse_number(g), inst.low, inst.high) for g in ft.groups())
    return (prev, cur) if prev is not None and cur is not None else None


def _value_near(text: str, m: re.Match[str], inst: Instrument) -> float | None:
    after = re.match(rf"{_LINK}({NUM}){_TIME_UNIT}\b", text[m.end():], re.IGNORECASE)
    if after:
        v = _in_range(parse_number(after.group(1)), inst.low, inst.high)
        if v is not None:
            return v
    before = re.search(rf"\b({NUM})\s+(?:points?\s+)?on\s+(?:the|your|his|her|my|their|this|a)?\s*$",
                       text[: m.start()], re.IGNORECASE)
    if before:
        return _in_range(parse_number(before.group(1)), inst.low, inst.high)
    return None


def _answer(items: Sequence[TaggedUtterance], i: int, lo: int, hi: int) -> tuple[float, str] | None:
    """A bare number opening the other speaker's next utterance (the answer to a question)."""
    if i + 1 >= len(items):
        return None
    q, nxt = items[i], items[i + 1]
    if nxt.utterance.speaker == q.utterance.speaker:
        return None
    m = _ANSWER.match(nxt.utterance.text)
    v = _in_range(parse_number(m.group(1)), lo, hi) if m else None
    return (v, nxt.utterance.utterance_id) if v is not None else None


def _topic(text: str) -> str | None:
    low = text.lower()
    hits = [(m.start(), name) for name, pat in _TOPICS if (m := re.search(pat, low))]
    return min(hits)[1] if hits else None


def find_measures(items: Sequence[TaggedUtterance]) -> list[MeasureFinding]:
    """Every measure mention in session order; repeated (measure, value) pairs are merged."""
    found: list[MeasureFinding] = []
    for i, t in enumerate(items):
        text = t.utterance.text
        uid = t.utterance.utterance_id
        for inst in INSTRUMENTS:
            for m in re.finditer(inst.pattern, text, inst.flags):
                change = _change_near(text, m, inst)
                if change:
                    found.append(MeasureFinding(inst.name, change[1], inst.low, inst.high, (uid,), previous=change[0]))
                    continue
                v = _value_near(text, m, inst)
                ids: tuple[str, ...] = (uid,)
                if v is None and "?" in text[m.start():]:
                    ans = _answer(items, i, inst.low, inst.high)
                    if ans:
                        v, ids = ans[0], (uid, ans[1])
                found.append(MeasureFinding(inst.name, v, inst.low, inst.high, ids))
        rated = False
        for m in _OUT_OF_TEN.finditer(text):
            v = _in_range(parse_number(m.group(1)), 0, 10)
            if v is not None:
                ctx = text
                if i > 0 and items[i - 1].utterance.speaker != t.utterance.speaker:
                    ctx = items[i - 1].utterance.text + " " + text
                found.append(MeasureFinding(RATING, v, 0, 10, (uid,), _topic(ctx)))
                rated = True
        if not rated and _SCALE.search(text):
            ans = _answer(items, i, 0, 10)
            if ans:
                found.append(MeasureFinding(RATING, ans[0], 0, 10, (uid, ans[1]), _topic(text)))
            elif not (i > 0 and _SCALE.search(items[i - 1].utterance.text)):
                found.append(MeasureFinding(RATING, None, 0, 10, (uid,), _topic(text)))
    return _merge(found)


def _merge(found: list[MeasureFinding]) -> list[MeasureFinding]:
    out: dict[tuple[str, str | None, float | None], MeasureFinding] = {}
    valued = {(f.measure, f.topic) for f in found if f.value is not None}
    for f in found:
        if f.value is None and (f.measure, f.topic) in valued:
            continue  # a bare mention of a measure whose value is stated elsewhere adds nothing
        key = (f.measure, f.topic, f.value)
        if key in out:
            prev = out[key]
            ids = prev.utterance_ids + tuple(x for x in f.utterance_ids if x not in prev.utterance_ids)
            was = prev.previous if prev.previous is not None else f.previous
            out[key] = MeasureFinding(f.measure, f.value, f.low, f.high, ids, f.topic, was)
        else:
            out[key] = f
    return list(out.values())
