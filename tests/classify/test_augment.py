"""Reaction-swapped training copies: the therapist's risk talk replaced, the client's rows untouched."""

from __future__ import annotations

import random

from tagger.io.labeled import read_labeled
from tagger.training.augment import RISK_TALK, donor_turns, swap_reactions
from tagger.training.data import AUTHORED_DIR


def _sessions(*ids: str):
    return [read_labeled(AUTHORED_DIR / f"{sid}.csv", fmt="codes")[0] for sid in ids]


def test_risk_talk_is_swapped_for_ordinary_therapist_turns_and_clients_stay():
    sessions = _sessions("s001", "s015", "s244")  # s015 has no risk talk
    copies = swap_reactions(sessions, random.Random(13))
    assert copies[1] is None
    donors = {text: lab for text, lab in donor_turns(sessions)}
    swapped = 0
    for ls, cp in zip(sessions, copies, strict=True):
        if cp is None:
            continue
        assert [(u.utterance_id, u.speaker) for u in cp.session.utterances] == [
            (u.utterance_id, u.speaker) for u in ls.session.utterances
        ]
        for u, v in zip(ls.session.utterances, cp.session.utterances, strict=True):
            old, new = ls.labels[u.utterance_id], cp.labels[v.utterance_id]
            if u.speaker == "therapist" and old.codes & RISK_TALK:
                assert not new.codes & RISK_TALK and donors[v.text] == new  # a donor's text with its own labels
                swapped += 1
            else:
                assert (v.text, new) == (u.text, old)
    assert swapped == 3 + 13
    again = swap_reactions(sessions, random.Random(13))
    assert [c and c.session for c in again] == [c and c.session for c in copies]  # seeded
