from __future__ import annotations

import json

import pytest
from note_helpers import load

from tagger.errors import InputError
from tagger.note import CLINICIAN, Note, build_note, render
from tagger.note.types import EVIDENCED_KINDS, timestamp
from tagger.taxonomy import load_taxonomy

SECTION_KEYS = {"soap": ["S", "O", "A", "P"], "dap": ["D", "A", "P"], "birp": ["B", "I", "R", "P"]}
FAMILY_GROUPS = ["Interventions: CBT", "Interventions: Skills (DBT)", "Interventions: Motivational interviewing (MI)",
                 "Interventions: ACT", "Interventions: Psychodynamic", "Interventions: Supportive",
                 "Interventions: Risk", "Interventions: Planning"]


@pytest.mark.parametrize("fmt", ["soap", "dap", "birp"])
def test_note_structure(session: tuple[str, list], fmt: str) -> None:
    name, items = session
    note = build_note(items, fmt, source=f"{name}.jsonl", model="fixture 1.0", drafted_at="2025-01-01T00:00:00Z")
    assert [s.key for s in note.sections] == SECTION_KEYS[fmt]
    h = note.header
    assert (h.session_id, h.source, h.model, h.session_date) == (items[0].utterance.session_id, f"{name}.jsonl",
                                                                  "fixture 1.0", CLINICIAN)
    assert "clinician must review" in h.disclaimer.lower()
    texts = [s.text for s in note.all_statements()]
    for field in ("Diagnosis", "Mental status observations", "Treatment-plan goals", "Risk level"):
        assert any(t.startswith(field) and t.endswith(CLINICIAN) for t in texts), field
    # interventions grouped by family in the order
    groups = [g for sec in note.sections for g, _ in sec.groups() if g.startswith("Interventions: ")]
    assert groups == sorted(groups, key=FAMILY_GROUPS.index)
    for s in note.all_statements():
        if s.kind in EVIDENCED_KINDS:
            assert s.codes and s.evidence, s.text
        if s.kind == "intervention" and s.group.startswith("Interventions: "):
            assert 1 <= len(s.evidence) <= 3
    assert "MITI" in note.appendix.statements[0].group


def test_intervention_text_uses_documentation_verbs_and_counts() -> None:
    note = build_note(load("cbt_depression"), "soap")
    stmts = {s.codes[0]: s for s in note.all_statements() if s.group.startswith("Interventions: ")}
    tax = load_taxonomy()
    for code, s in stmts.items():
        assert s.text.startswith(tax.code(code).verb)
    assert stmts["cognitive_restructuring"].text.startswith("Reframed")
    assert stmts["cognitive_restructuring"].count == 2
    assert stmts["homework"].text.startswith("Assigned")
    assert stmts["validation"].text.startswith("Validated")
    # a long turn is quoted by its evidence sentence, not in full
    [hw] = stmts["homework"].evidence
    assert hw.quote.startswith("Before next week") and "Bring it next time" not in hw.quote
    assert (hw.utterance_id, hw.time, hw.confidence) == ("u019", "01:38", 0.88)


def test_low_confidence_labels_are_marked_review() -> None:
    note = build_note(load("mi_alcohol"), "soap")
    [vc] = [s for s in note.all_statements() if s.codes == ("values_clarification",) and s.kind == "intervention"]
    assert vc.review and vc.evidence[0].review and "review" in vc.text
    [cr] = [s for s in note.all_statements() if s.codes == ("complex_reflection",) and s.kind == "intervention"]
    assert not cr.review  # the one complex reflection is not near threshold
    md = render(note, "md")
    assert "**REVIEW**" in md and "**[review]**" in md


def test_plan_items_and_measures_are_cited() -> None:
    note = build_note(load("mi_alcohol"), "soap")
    plan = next(s for s in note.sections if s.key == "P")
    groups = dict(plan.groups())
    assert [e.utterance_id for s in groups["Goals discussed in session"] for e in s.evidence] == ["u018"]
    assert [e.utterance_id for s in groups["Referrals and coordination"] for e in s.evidence] == ["u020"]
    measures = [s for s in note.all_statements() if s.kind == "measure"]
    assert [s.text.split(":")[0] for s in measures] == ["AUDIT-C", "0-10 rating (importance)"]
    assert [e.utterance_id for e in measures[1].evidence] == ["u013", "u014"]


def test_engagement_by_time_and_by_words() -> None:
    timed = build_note(load("cbt_depression"), "soap").metrics["engagement"]
    assert timed["share_basis"] == "time" and timed["client_turns"] == 9 and timed["therapist_turns"] == 10
    untimed = build_note(load("mi_alcohol"), "soap").metrics["engagement"]
    assert untimed["share_basis"] == "words" and untimed["therapist_utterances"] == 13
    assert 0 < untimed["client_share"] < 1


def test_json_round_trip(session: tuple[str, list]) -> None:
    note = build_note(session[1], "birp", drafted_at="2025-01-01T00:00:00Z")
    again = Note.from_dict(json.loads(render(note, "json")))
    assert again == note
    assert again.transcript == note.transcript


def test_input_errors() -> None:
    items = load("cbt_depression")
    with pytest.raises(InputError, match="unknown note format"):
        build_note(items, "narrative")
    with pytest.raises(InputError, match="at least one utterance"):
        build_note([], "soap")
    with pytest.raises(InputError, match="one session"):
        build_note(items + load("mi_alcohol"), "soap")


def test_timestamp() -> None:
    assert [timestamp(x) for x in (None, 0, 59.6, 61, 3725)] == [None, "00:00", "01:00", "01:01", "1:02:05"]
