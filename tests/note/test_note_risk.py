from __future__ import annotations

from note_helpers import load

from tagger.note import build_note
from tagger.note.risk import find_denials, find_risk, risk_statements
from tagger.types import TaggedUtterance, Utterance


def utt(i: int, speaker: str, text: str, *codes: str, risk: bool = False) -> TaggedUtterance:
    talk = (codes[0] if codes else "neutral") if speaker == "client" else None
    return TaggedUtterance(Utterance("s", f"u{i}", speaker, text), tuple(codes) or ((talk,) if talk else ("other",)),
                           {c: 0.9 for c in codes}, client_talk=talk, risk_indicator=risk)


def test_fixture_findings() -> None:
    items = load("risk_unassessed")
    got = {f.indicator.utterance.utterance_id: (f.asked_before and f.asked_before.utterance.utterance_id,
                                                 f.assessed_after and f.assessed_after.utterance.utterance_id,
                                                 f.safety_plan_after and f.safety_plan_after.utterance.utterance_id)
           for f in find_risk(items)}
    assert got == {"u002": (None, "u009", "u013"), "u010": ("u009", "u011", "u013"), "u018": (None, None, None)}


def test_unassessed_risk_is_flagged_at_the_top() -> None:
    note = build_note(load("risk_unassessed"), "soap")
    assert note.alerts is not None
    [alert] = note.alerts.statements
    assert alert.flag and "NO RISK ASSESSMENT DOCUMENTED" in alert.text
    assert [e.utterance_id for e in alert.evidence] == ["u018"]
    # the same flag also sits in the Assessment section's risk group
    assessment = next(s for s in note.sections if s.key == "A")
    assert alert in assessment.statements


def test_no_alert_when_every_indicator_is_assessed() -> None:
    for name in ("cbt_depression", "mi_alcohol"):
        assert build_note(load(name), "dap").alerts is None


def test_denial_needs_a_cited_client_no() -> None:
    items = load("cbt_depression")
    [d] = find_denials(items)
    assert (d.question.utterance.utterance_id, d.answer.utterance.utterance_id, d.topic) == \
        ("u015", "u016", "suicidal thoughts")
    stmts, _ = risk_statements(items)
    [s] = [s for s in stmts if "denied" in s.text]
    assert [e.utterance_id for e in s.evidence] == ["u015", "u016"]


def test_no_denial_from_hedged_answer_risk_answer_or_no_question() -> None:
    q = "Have you had thoughts of suicide?"
    hedged = [utt(1, "therapist", q, "closed_question", "risk_assessment"),
              utt(2, "client", "No, but sometimes I wish I could disappear.")]
    risky = [utt(1, "therapist", q, "closed_question", "risk_assessment"),
             utt(2, "client", "No... well, I did think about pills.", risk=True)]
    unasked = [utt(1, "therapist", "How was your week?", "open_question"), utt(2, "client", "No, it was fine.")]
    for items in (hedged, risky, unasked):
        assert find_denials(items) == []
        for fmt in ("soap", "dap", "birp"):
            texts = " ".join(s.text for s in build_note(items, fmt).all_statements()).lower()
            assert "denie" not in texts and "denial of" not in texts.replace("not a denial of risk", "")


def test_no_risk_content_says_so_without_claiming_denial() -> None:
    items = [utt(1, "therapist", "How was your week?", "open_question"), utt(2, "client", "Fine.")]
    stmts, alerts = risk_statements(items)
    assert alerts == []
    assert any("No risk assessment is documented" in s.text for s in stmts)
    assert not any("denied" in s.text for s in stmts)
