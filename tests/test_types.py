"""Result types: validation, and lossless JSON round-trips (the JSONL record is the output contract)."""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagger.types import Session, Tag, TaggedUtterance, Utterance


def _json(d: dict) -> dict:
    return json.loads(json.dumps(d, ensure_ascii=False))


# --------------------------------------------------------------------------- examples


def test_utterance_round_trip():
    u = Utterance(
        "s1", "3.1", "therapist", "What's the evidence?", speaker_label="Dr Lee", start=1.5, end=4.0, parent_id="3"
    )
    assert Utterance.from_dict(_json(u.to_dict())) == u


def test_utterance_from_dict_minimal_fields_and_string_times():
    u = Utterance.from_dict(
        {"session_id": 7, "utterance_id": 0, "speaker": "client", "text": "ok", "start": "2.5", "end": ""}
    )
    assert (u.session_id, u.utterance_id, u.start, u.end, u.speaker_label, u.parent_id) == (
        "7",
        "0",
        2.5,
        None,
        None,
        None,
    )


def test_session_round_trip_with_metadata():
    s = Session(
        "s1",
        (Utterance("s1", "0", "therapist", "Hi."), Utterance("s1", "1", "client", "Hello.", start=0.5, end=1.0)),
        source="x.csv",
        metadata=(("modality", "CBT"), ("topic", "sleep")),
    )
    d = _json(s.to_dict())
    assert d["metadata"] == {"modality": "CBT", "topic": "sleep"}
    assert Session.from_dict(d) == s


def test_session_from_dict_fills_session_id_into_utterances():
    s = Session.from_dict(
        {"session_id": "abc", "utterances": [{"utterance_id": "0", "speaker": "client", "text": "x"}]}
    )
    assert s.utterances[0].session_id == "abc" and s.source is None and s.metadata == ()


def test_tagged_record_is_the_contract():
    u = Utterance("s1", "4", "client", "I cut again on Saturday.", speaker_label="C", start=3.0, end=5.0)
    t = TaggedUtterance(
        u,
        ("neutral", "risk_indicator"),
        {"neutral": 0.712345, "change_talk": 0.2, "sustain_talk": 0.08, "risk_indicator": 0.93},
        client_talk="neutral",
        risk_indicator=True,
        evidence={"risk_indicator": "I cut again on Saturday."},
    )
    rec = t.to_record()
    assert list(rec)[:12] == [
        "session_id",
        "utterance_id",
        "speaker",
        "speaker_label",
        "text",
        "start",
        "end",
        "codes",
        "scores",
        "main_behaviour",
        "client_talk",
        "risk_indicator",
    ]
    assert rec["scores"]["neutral"] == 0.7123  # rounded to 4 places
    assert rec["codes"] == ["neutral", "risk_indicator"] and rec["risk_indicator"] is True
    assert "review" not in rec and rec["evidence"] == {"risk_indicator": "I cut again on Saturday."}
    back = TaggedUtterance.from_record(_json(rec))
    assert back.utterance == u and back.codes == t.codes and back.evidence == t.evidence
    assert back.scores["neutral"] == 0.7123


def test_tags_carry_scores():
    u = Utterance("s", "0", "therapist", "Mm-hmm.")
    t = TaggedUtterance(u, ("open_question", "other"), {"open_question": 0.8}, review=("open_question",))
    assert t.tags == (Tag("open_question", 0.8), Tag("other", 1.0))  # a code without a score counts as certain
    assert t.to_record()["review"] == ["open_question"]


# --------------------------------------------------------------------------- validation


def test_bad_speaker_is_rejected():
    with pytest.raises(ValueError, match="speaker must be 'therapist' or 'client', got 'nurse'"):
        Utterance("s", "0", "nurse", "hi")  # type: ignore[arg-type]


def test_end_before_start_is_rejected():
    with pytest.raises(ValueError, match="utterance 7: end 1.0 is before start 2.0"):
        Utterance("s", "7", "client", "hi", start=2.0, end=1.0)


def test_from_dict_missing_field():
    with pytest.raises(KeyError):
        Utterance.from_dict({"session_id": "s", "utterance_id": "0", "speaker": "client"})


def test_from_record_bad_speaker():
    with pytest.raises(ValueError):
        TaggedUtterance.from_record({"session_id": "s", "utterance_id": "0", "speaker": "T", "text": "x"})


def test_types_are_frozen():
    u = Utterance("s", "0", "client", "hi")
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.text = "changed"  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

_ids = st.text(min_size=1, max_size=12)
_times = st.one_of(st.none(), st.floats(min_value=0, max_value=1e5, allow_nan=False))


@st.composite
def utterances(draw, session_id: str | None = None) -> Utterance:
    start, end = draw(_times), draw(_times)
    if start is not None and end is not None and end < start:
        start, end = end, start
    return Utterance(
        session_id=session_id if session_id is not None else draw(_ids),
        utterance_id=draw(_ids),
        speaker=draw(st.sampled_from(["therapist", "client"])),
        text=draw(st.text(max_size=80)),
        speaker_label=draw(st.one_of(st.none(), st.text(max_size=10))),
        start=start,
        end=end,
        parent_id=draw(st.one_of(st.none(), _ids)),
    )


@st.composite
def sessions(draw) -> Session:
    sid = draw(_ids)
    meta = draw(st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3))
    return Session(
        session_id=sid,
        utterances=tuple(draw(st.lists(utterances(sid), max_size=5))),
        source=draw(st.one_of(st.none(), st.text(max_size=20))),
        metadata=tuple(sorted(meta.items())),
    )


@settings(max_examples=60, deadline=None)
@given(sessions())
def test_session_json_round_trip(s: Session):
    assert Session.from_dict(_json(s.to_dict())) == s


_scores = st.dictionaries(
    st.text(min_size=1, max_size=10), st.integers(0, 10_000).map(lambda k: k / 10_000), max_size=5
)


@settings(max_examples=60, deadline=None)
@given(
    utterances().map(lambda u: dataclasses.replace(u, parent_id=None)),  # the record is per turn: no parent id
    st.lists(st.text(min_size=1, max_size=10), max_size=3).map(tuple),
    _scores,
    st.one_of(st.none(), st.sampled_from(["question", "reflection", "therapist_input", "other"])),
    st.booleans(),
    st.dictionaries(st.text(min_size=1, max_size=10), st.text(max_size=20), max_size=2),
    st.lists(st.text(min_size=1, max_size=10), max_size=2).map(tuple),
)
def test_tagged_record_json_round_trip(u, codes, scores, main, risk, evidence, review):
    t = TaggedUtterance(
        u,
        codes,
        scores,
        main_behaviour=main,
        client_talk="neutral" if u.speaker == "client" else None,
        risk_indicator=risk,
        evidence=evidence,
        review=review,
    )
    assert TaggedUtterance.from_record(_json(t.to_record())) == t
