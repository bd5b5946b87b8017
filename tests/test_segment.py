"""Sentence segmentation with the real spaCy model: long turns split, parent ids kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.errors import ModelError
from tagger.io.readers import read_transcript
from tagger.segment import Segmenter, parent_of
from tagger.types import Session, Utterance

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"

LONG = (
    "I went to the shop on Monday and I felt awful the whole way there. "
    "Then I came home and sat in the car for twenty minutes. "
    "I could not make myself go inside the house at all."
)


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return Segmenter()


def _session() -> Session:
    return Session(
        "s",
        (
            Utterance("s", "0", "therapist", "How was the week?", start=0.0, end=1.5),
            Utterance("s", "1", "client", LONG, speaker_label="Client", start=2.0, end=12.0),
            Utterance("s", "2", "therapist", "That sounds really hard.", start=12.5, end=14.0),
        ),
        source="x.csv",
    )


def test_long_turn_is_split_with_parent_ids(seg: Segmenter):
    s = _session()
    out = seg(s)
    assert (out.session_id, out.source) == (s.session_id, s.source)
    ids = [u.utterance_id for u in out.utterances]
    assert ids == ["0", "1.0", "1.1", "1.2", "2"]
    parts = out.utterances[1:4]
    assert [u.text for u in parts] == [
        "I went to the shop on Monday and I felt awful the whole way there.",
        "Then I came home and sat in the car for twenty minutes.",
        "I could not make myself go inside the house at all.",
    ]
    assert all(u.parent_id == "1" and u.speaker == "client" and u.speaker_label == "Client" for u in parts)
    assert [(u.start, u.end) for u in parts] == [(2.0, None), (None, None), (None, 12.0)]
    assert [parent_of(u) for u in out.utterances] == ["0", "1", "1", "1", "2"]


def test_short_turns_untouched(seg: Segmenter):
    s = _session()
    out = seg(s)
    assert out.utterances[0] is s.utterances[0] and out.utterances[-1] is s.utterances[-1]
    short = Session("t", (Utterance("t", "0", "client", "Fine. Thanks. You?"),))
    assert seg(short) == short  # under min_words: not split even with several sentences


def test_long_single_sentence_stays_whole(seg: Segmenter):
    text = " ".join(["and then we walked a bit further down the road"] * 4) + "."
    u = Utterance("s", "0", "client", text)
    assert seg(Session("s", (u,))).utterances == (u,)


def test_min_words_threshold():
    assert Segmenter(min_words=1000).sentences([LONG]) == [[LONG]]


def test_sample_multiline_turn_splits(seg: Segmenter):
    (s,) = read_transcript(SAMPLES / "mi_session.txt")
    out = seg(s)
    kids = [u for u in out.utterances if u.parent_id == "5"]
    assert len(kids) >= 3 and " ".join(k.text for k in kids) == s.utterances[5].text
    assert len({u.utterance_id for u in out.utterances}) == len(out.utterances)
    assert {parent_of(u) for u in out.utterances} == {u.utterance_id for u in s.utterances}


def test_missing_model_is_a_model_error():
    with pytest.raises(ModelError, match="is not installed"):
        Segmenter(model="no_such_spacy_model_xyz").sentences([LONG])
