"""Alignment of predictions to gold by (session_id, utterance_id)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.evaluation.align import AlignmentError, align, read_predictions, speaker_mismatches
from tagger.io.labeled import LabeledSession
from tagger.types import TaggedUtterance


def test_align_pairs_every_gold_utterance(gold: list[LabeledSession], pred_a: list[TaggedUtterance]) -> None:
    sessions = align(gold, list(reversed(pred_a)))  # prediction order does not matter
    assert [s.session_id for s in sessions] == ["s1", "s2"]
    assert [u.utterance_id for u in sessions[0].utterances] == ["0", "1", "2", "3", "4"]
    u = sessions[0].utterances[2]
    assert (
        u.speaker == "therapist" and u.gold.codes == {"complex_reflection"} and u.pred.codes == ("simple_reflection",)
    )
    assert speaker_mismatches(sessions) == 0


def test_missing_and_extra_ids_are_listed(gold: list[LabeledSession], pred_a: list[TaggedUtterance]) -> None:
    extra = replace(pred_a[0], utterance=replace(pred_a[0].utterance, utterance_id="99"))
    with pytest.raises(AlignmentError) as err:
        align(gold, pred_a[1:] + [extra], name="pred_a")
    msg = str(err.value)
    assert "1 gold utterances without a prediction (session/utterance): s1/0" in msg
    assert "1 predictions not in the gold (session/utterance): s1/99" in msg
    assert "--partial" in msg


def test_duplicates_are_an_error(gold: list[LabeledSession], pred_a: list[TaggedUtterance]) -> None:
    with pytest.raises(AlignmentError, match="duplicated predictions.*s1/0"):
        align(gold, pred_a + [pred_a[0]])


def test_partial_scores_only_covered_sessions(gold: list[LabeledSession], pred_a: list[TaggedUtterance]) -> None:
    only_s2 = [t for t in pred_a if t.utterance.session_id == "s2"]
    with pytest.raises(AlignmentError, match="5 gold utterances without a prediction"):
        align(gold, only_s2)
    assert [s.session_id for s in align(gold, only_s2, partial=True)] == ["s2"]
    with pytest.raises(AlignmentError, match="s2/3"):  # a covered session must still be complete
        align(gold, only_s2[:-1], partial=True)
    with pytest.raises(AlignmentError, match="no prediction matches a gold session"):
        align(gold, [replace(t, utterance=replace(t.utterance, session_id="zz")) for t in only_s2], partial=True)


def test_speaker_mismatch_is_counted(gold: list[LabeledSession], pred_a: list[TaggedUtterance]) -> None:
    swapped = [replace(pred_a[0], utterance=replace(pred_a[0].utterance, speaker="client"))] + pred_a[1:]
    assert speaker_mismatches(align(gold, swapped)) == 1


def test_read_predictions_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such prediction file"):
        read_predictions(tmp_path / "nope.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        json.dumps({"session_id": "s", "utterance_id": "0", "speaker": "therapist", "text": "x"}) + "\n{oops\n"
    )
    with pytest.raises(InputError, match="line 2: not a prediction record"):
        read_predictions(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(InputError, match="no prediction records"):
        read_predictions(empty)
