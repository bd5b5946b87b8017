"""WER and speaker-attribution error against hand-counted edits."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.evaluation.align import read_predictions
from tagger.evaluation.wer import normalize, pool, score_sessions, score_transcript
from tagger.io.readers import read_transcript
from tagger.types import Session, Utterance

FIX = Path(__file__).parent / "fixtures"


def utt(i: int, speaker: str, text: str, sid: str = "s") -> Utterance:
    return Utterance(sid, str(i), speaker, text)  # type: ignore[arg-type]


def test_normalize() -> None:
    assert normalize("Um, I DON'T know... mm-hmm!") == ["i", "dont", "know"]
    assert normalize("Uh, well-being", drop_fillers=False) == ["uh", "wellbeing"]


def test_wer_and_speaker_error_by_hand() -> None:
    ref = [
        utt(0, "therapist", "How are you feeling today?"),
        utt(1, "client", "Um, not great, honestly."),
        utt(2, "therapist", "Tell me more."),
    ]
    hyp = [
        utt(0, "therapist", "How are you feeling to day"),
        utt(1, "client", "not great honestly tell"),
        utt(2, "therapist", "me more."),
    ]
    s = score_transcript(ref, hyp)
    # 11 reference words (the filler dropped); "today" -> "to day": one substitution + one insertion
    assert (s.ref_words, s.hyp_words, s.substitutions, s.deletions, s.insertions) == (11, 12, 1, 0, 1)
    assert s.wer == pytest.approx(2 / 11)
    # 11 aligned pairs; "tell" is the therapist's word but attributed to the client
    assert (s.aligned_words, s.speaker_errors) == (11, 1)
    assert s.speaker_error_rate == pytest.approx(1 / 11)


def test_deletions_and_pooling() -> None:
    a = score_transcript([utt(0, "therapist", "one two three four")], [utt(0, "client", "one three")])
    assert (a.substitutions, a.deletions, a.insertions, a.wer) == (0, 2, 0, 0.5)
    assert a.speaker_error_rate == 1.0
    b = score_transcript([utt(0, "client", "five six")], [utt(0, "client", "five six")])
    pooled = pool([a, b])
    assert pooled.wer == pytest.approx(2 / 6)  # 2 edits over 6 reference words
    assert pooled.speaker_error_rate == pytest.approx(2 / 4)


def test_empty_hypothesis_is_all_deletions() -> None:
    s = score_transcript([utt(0, "client", "a b")], [])
    assert s.wer == 1.0 and s.deletions == 2 and s.speaker_error_rate is None


def test_score_sessions_from_files() -> None:
    ref = read_transcript(FIX / "asr_reference.csv")
    hyp = [t.utterance for t in read_predictions(FIX / "asr_run.jsonl")]
    scores = score_sessions(ref, hyp)  # one session each: paired despite different ids
    assert scores.wer == pytest.approx(2 / 11) and scores.speaker_error_rate == pytest.approx(1 / 11)
    assert scores.sessions[0].ref_session_id == "call1" and scores.sessions[0].session_id == "recording"


def test_score_sessions_orders_by_start_and_names_missing_references() -> None:
    ref = [Session("a", (utt(0, "client", "x y", "a"),)), Session("b", (utt(0, "client", "z", "b"),))]
    hyp = [
        Utterance("a", "1", "client", "y", start=2.0),
        Utterance("a", "0", "client", "x", start=1.0),
        Utterance("b", "0", "client", "z"),
    ]
    assert score_sessions(ref, hyp).wer == 0.0
    with pytest.raises(InputError, match="no reference transcript for hypothesis session"):
        score_sessions(ref, [Utterance("c", "0", "client", "x")] + hyp)
