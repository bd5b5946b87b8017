"""The evidence guard: over many random tagged sessions, every statement about an intervention,
a client response or risk cites utterances whose labels support each code it claims.

The checks read the raw labels of the input (not the note's own copy) and re-derive counts,
flags and denials independently of the note builder.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from note_helpers import TAX, VERBS, sessions

from tagger.note import build_note, render
from tagger.note.types import EVIDENCED_KINDS, Note
from tagger.types import TaggedUtterance


def supports(t: TaggedUtterance, code: str) -> bool:
    """Raw-label check, written independently of tagger.note.evidence."""
    if code == "risk_indicator":
        return t.utterance.speaker == "client" and t.risk_indicator
    if code in ("change_talk", "sustain_talk", "neutral"):
        return t.utterance.speaker == "client" and t.client_talk == code
    return t.utterance.speaker == "therapist" and code in t.codes


def check(note: Note, items: list[TaggedUtterance]) -> None:
    by_id = {t.utterance.utterance_id: t for t in items}
    index = {t.utterance.utterance_id: i for i, t in enumerate(items)}
    covered: set[str] = set()
    for s in note.all_statements():
        for e in s.evidence:
            t = by_id[e.utterance_id]  # every citation points at a real utterance
            assert e.speaker == t.utterance.speaker and e.start == t.utterance.start
            source = " ".join((t.evidence.get(e.code or "", "") or t.utterance.text).split())
            assert source.startswith(e.quote.removesuffix(" …")), (e.quote, source)
            if e.code and e.code in t.scores:
                assert e.confidence == round(t.scores[e.code], 3)
            assert e.review == bool(e.code and e.code in t.review)
        if s.kind in EVIDENCED_KINDS:
            assert s.codes, s
        for code in s.codes:  # THE GUARD: each claimed code is carried by a cited utterance
            assert any(supports(by_id[e.utterance_id], code) for e in s.evidence), (s.text, code)
        if s.group.startswith("Interventions: "):
            [code] = s.codes
            carriers = [t for t in items if supports(t, code)]
            assert s.text.startswith(VERBS[code])
            assert s.count == len(carriers) and 1 <= len(s.evidence) <= 3
            assert s.family == TAX.family_of(code)
            assert s.review == all(code in t.review for t in carriers)
            covered.add(code)
        if s.kind == "response" and s.family:
            therapist_ev = [by_id[e.utterance_id] for e in s.evidence if e.speaker == "therapist"]
            assert therapist_ev and all(any(TAX.family_of(c) == s.family for c in t.codes if c != "other")
                                        for t in therapist_ev)
        if re.search(r"\bdenie", s.text, re.IGNORECASE):
            q, a = (by_id[e.utterance_id] for e in s.evidence)
            assert supports(q, "risk_assessment") and a.utterance.speaker == "client" and not a.risk_indicator
            assert index[a.utterance.utterance_id] == index[q.utterance.utterance_id] + 1
            assert re.match(r"\W*(no|nope|nah|never|not|none|i)\b", a.utterance.text, re.IGNORECASE)
            assert not re.search(r"\b(but|sometimes|except)\b", a.utterance.text, re.IGNORECASE)  # a clean "no"
    used = {c for t in items if t.utterance.speaker == "therapist" for c in t.codes if c != "other"}
    assert covered == used  # every intervention used appears in the note
    # the alert block holds exactly the client risk statements with no risk assessment around them
    unassessed = []
    for i, t in enumerate(items):
        if not supports(t, "risk_indicator"):
            continue
        after = any(supports(x, "risk_assessment") for x in items[i + 1:])
        j = i - 1
        while j >= 0 and items[j].utterance.speaker == "client":
            j -= 1
        before = False
        while j >= 0 and items[j].utterance.speaker == "therapist":
            before = before or supports(items[j], "risk_assessment")
            j -= 1
        if not (after or before):
            unassessed.append(t.utterance.utterance_id)
    alerts = [e.utterance_id for s in (note.alerts.statements if note.alerts else ()) for e in s.evidence
              if e.code == "risk_indicator"]
    assert alerts == unassessed
    cited_risk = {e.utterance_id for s in note.all_statements() if s.kind == "risk" for e in s.evidence}
    assert {t.utterance.utterance_id for t in items if supports(t, "risk_indicator")} <= cited_risk


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=sessions(), fmt=st.sampled_from(["soap", "dap", "birp"]))
def test_every_claim_cites_supporting_utterances(items: list[TaggedUtterance], fmt: str) -> None:
    note = build_note(items, fmt, drafted_at="2025-01-01T00:00:00Z")
    check(note, items)
    html = render(note, "html")
    assert isinstance(html, str)
    anchors = set(re.findall(r'id="(u-[^"]+)"', html))
    assert set(re.findall(r'href="#(u-[^"]+)"', html)) <= anchors
    assert render(note, "md")
