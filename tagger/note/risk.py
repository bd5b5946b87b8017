"""Risk: client risk statements, whether the therapist assessed them, safety planning, denials.

A client ``risk_indicator`` counts as *assessed* when a therapist ``risk_assessment`` utterance
comes after it in the session, or is the therapist turn immediately before it (the question the
client was answering). An unassessed indicator raises a flag shown at the top of the note.
A client *denial* is recorded only when a client utterance that is not a risk indicator answers
a ``risk_assessment`` question with an explicit "no"; the note then quotes both utterances.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tagger.note.evidence import cite, client_talk, has_code, is_risk
from tagger.note.types import CLINICIAN, Statement, where
from tagger.taxonomy import RISK_FLAG
from tagger.types import TaggedUtterance

GROUP = "Risk"
_DENIAL = re.compile(r"^\W*(?:no|nope|nah|never|not really|not at all|none|"
                     r"i (?:don't|do not|haven't|have not|wouldn't|would not|never|am not|'m not)|i'm not)\b",
                     re.IGNORECASE)
# words that take a "no" back anywhere in the answer, or leave its first sentence unsure
_HEDGE = re.compile(r"\b(?:but|except|although|though|sometimes|used to|unless)\b", re.IGNORECASE)
_UNSURE = re.compile(r"\b(?:maybe|not sure|kind of|sort of|i guess|i think so)\b", re.IGNORECASE)
_TOPICS: tuple[tuple[str, str], ...] = (
    ("suicidal thoughts", r"suicid|kill(?:ing)? yourself|end(?:ing)? (?:your|it all|things)|take your (?:own )?life|"
                          r"better off dead|not (?:be )?(?:here|alive)|want(?:ed)? to die"),
    ("self-harm", r"self[- ]harm|hurt(?:ing)? yourself|cut(?:ting)? yourself|harm(?:ing)? yourself"),
    ("thoughts of harming others", r"hurt(?:ing)? (?:someone|anyone|somebody|others|him|her|them)|"
                                   r"harm(?:ing)? (?:someone|anyone|others)|homicid"),
    ("abuse or feeling unsafe", r"\bsafe\b|abus|hit you|threat"),
)


@dataclass(frozen=True)
class RiskFinding:
    indicator: TaggedUtterance
    asked_before: TaggedUtterance | None  # risk_assessment in the therapist turn right before
    assessed_after: TaggedUtterance | None  # first risk_assessment after the indicator
    safety_plan_after: TaggedUtterance | None  # first safety_planning after the indicator

    @property
    def assessed(self) -> bool:
        return self.asked_before is not None or self.assessed_after is not None


@dataclass(frozen=True)
class Denial:
    question: TaggedUtterance  # therapist risk_assessment
    answer: TaggedUtterance  # client "no", not a risk indicator
    topic: str | None


def _first_after(items: Sequence[TaggedUtterance], i: int, code: str) -> TaggedUtterance | None:
    return next((t for t in items[i + 1:] if has_code(t, code)), None)


def _asked_before(items: Sequence[TaggedUtterance], i: int) -> TaggedUtterance | None:
    """A risk_assessment in the run of therapist utterances just before client utterance ``i``."""
    j = i - 1
    while j >= 0 and items[j].utterance.speaker == "client":
        j -= 1
    while j >= 0 and items[j].utterance.speaker == "therapist":
        if has_code(items[j], "risk_assessment"):
            return items[j]
        j -= 1
    return None


def find_risk(items: Sequence[TaggedUtterance]) -> list[RiskFinding]:
    return [RiskFinding(t, _asked_before(items, i), _first_after(items, i, "risk_assessment"),
                        _first_after(items, i, "safety_planning"))
            for i, t in enumerate(items) if is_risk(t)]


def question_topic(text: str) -> str | None:
    """What a risk question asks about ("suicidal thoughts or self-harm"), from its wording."""
    low = text.lower()
    names = [name for name, pat in _TOPICS if re.search(pat, low)]
    return " or ".join(names) if names else None


def find_denials(items: Sequence[TaggedUtterance]) -> list[Denial]:
    out = []
    for i, t in enumerate(items):
        if not has_code(t, "risk_assessment") or i + 1 >= len(items):
            continue
        nxt = items[i + 1]
        text = nxt.utterance.text
        first = re.split(r"(?<=[.!?])\s+", text.strip(), maxsplit=1)[0]
        if (nxt.utterance.speaker == "client" and not is_risk(nxt) and _DENIAL.match(text)
                and not _HEDGE.search(text) and not _UNSURE.search(first)):
            out.append(Denial(t, nxt, question_topic(t.utterance.text)))
    return out


def _where(t: TaggedUtterance) -> str:
    return where(t.utterance.utterance_id, t.utterance.start)


def risk_statements(items: Sequence[TaggedUtterance]) -> tuple[list[Statement], list[Statement]]:
    """(statements for the note's risk group, flagged statements for the alert block)."""
    findings = find_risk(items)
    stmts: list[Statement] = []
    alerts: list[Statement] = []
    for f in findings:
        ind = cite(f.indicator, RISK_FLAG)
        if f.assessed:
            ev = [ind]
            parts = []
            if f.asked_before is not None:
                ev.append(cite(f.asked_before, "risk_assessment"))
                parts.append(f"in answer to a risk-assessment question ({_where(f.asked_before)})")
            if f.assessed_after is not None:
                ev.append(cite(f.assessed_after, "risk_assessment"))
                parts.append(f"risk assessed afterwards ({_where(f.assessed_after)})")
            codes: tuple[str, ...] = (RISK_FLAG, "risk_assessment")
            if f.safety_plan_after is not None:
                ev.append(cite(f.safety_plan_after, "safety_planning"))
                parts.append(f"safety planning followed ({_where(f.safety_plan_after)})")
                codes += ("safety_planning",)
            else:
                parts.append("no safety planning documented after it")
            stmts.append(Statement(f"Client made a statement flagged as a risk indicator ({_where(f.indicator)}); "
                                   + "; ".join(parts) + ".", "risk", GROUP, codes, tuple(ev),
                                   review=ind.review))
        else:
            text = (f"RISK MENTIONED, NO RISK ASSESSMENT DOCUMENTED: client statement flagged as a risk indicator "
                    f"({_where(f.indicator)}) is not followed by any documented risk assessment"
                    + ("" if f.safety_plan_after is None else " (safety planning does follow)")
                    + ". Clinician to assess and document.")
            ev2 = (ind,) + ((cite(f.safety_plan_after, "safety_planning"),) if f.safety_plan_after else ())
            codes2 = (RISK_FLAG,) + (("safety_planning",) if f.safety_plan_after else ())
            s = Statement(text, "risk", GROUP, codes2, ev2, review=ind.review, flag=True)
            stmts.append(s)
            alerts.append(s)
    for d in find_denials(items):
        what = d.topic or "the risk asked about"
        stmts.append(Statement(f"Client denied {what} when asked ({_where(d.answer)}); quoted below.", "risk", GROUP,
                               ("risk_assessment",),
                               (cite(d.question, "risk_assessment"), cite(d.answer, client_talk(d.answer))),
                               review="risk_assessment" in d.question.review))
    assessed_ids = {x.utterance.utterance_id for f in findings for x in (f.asked_before, f.assessed_after) if x}
    denied_ids = {d.question.utterance.utterance_id for d in find_denials(items)}
    other = [t for t in items if has_code(t, "risk_assessment")
             and t.utterance.utterance_id not in assessed_ids | denied_ids]
    if other:
        stmts.append(Statement(f"Risk assessment questions asked ({len(other)} further utterance"
                               f"{'s' if len(other) != 1 else ''}); see quotes for the client's answers in the "
                               f"transcript.", "risk", GROUP, ("risk_assessment",),
                               tuple(cite(t, "risk_assessment") for t in other[:3]), count=len(other)))
    if not findings and not any(has_code(t, "risk_assessment") for t in items):
        stmts.append(Statement("No risk assessment is documented in this session and the tagger flagged no client "
                               "risk statements. This is not a denial of risk.", "info", GROUP))
    stmts.append(Statement(f"Risk level and clinical risk formulation: {CLINICIAN}", "placeholder", GROUP))
    return stmts, alerts
