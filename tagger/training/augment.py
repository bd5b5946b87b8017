"""Counterfactual sessions for training: the therapist's risk talk swapped for ordinary therapist turns.

In the authored corpus the turn after a client's risk statement is often a risk question, so a
model that reads the conversation can flag risk from the therapist's reaction instead of from what
the client said (README, Results: it does). A *reaction-swapped* copy of a session replaces every
therapist turn coded ``risk_assessment`` or ``safety_planning`` with a therapist turn drawn from
elsewhere in the training data that carries neither code, text and labels together; the client's
rows and their labels stay. Training on these copies some of the time (``TrainConfig.reaction_swap``)
takes the shortcut away without touching the gold labels of any client row.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace

from tagger.io.labeled import GoldLabels, LabeledSession

RISK_TALK = frozenset({"risk_assessment", "safety_planning"})


def _is_risk_talk(labels: GoldLabels | None) -> bool:
    return labels is not None and bool(labels.codes & RISK_TALK)


def donor_turns(sessions: Sequence[LabeledSession]) -> list[tuple[str, GoldLabels]]:
    """(text, labels) of every labelled therapist turn of ``sessions`` without risk talk, in order."""
    out = []
    for ls in sessions:
        for u in ls.session.utterances:
            lab = ls.labels.get(u.utterance_id)
            if u.speaker == "therapist" and lab is not None and not _is_risk_talk(lab):
                out.append((u.text, lab))
    return out


def swap_reactions(sessions: Sequence[LabeledSession], rng: random.Random) -> list[LabeledSession | None]:
    """Per session, its reaction-swapped copy (donors drawn with ``rng`` from all of ``sessions``),
    or None when it has no therapist risk talk (the copy would be the session itself)."""
    donors = donor_turns(sessions)
    out: list[LabeledSession | None] = []
    for ls in sessions:
        utts, labels, swapped = list(ls.session.utterances), dict(ls.labels), False
        for k, u in enumerate(utts):
            if u.speaker == "therapist" and _is_risk_talk(ls.labels.get(u.utterance_id)) and donors:
                text, lab = donors[rng.randrange(len(donors))]
                utts[k] = replace(u, text=text)
                labels[u.utterance_id] = lab
                swapped = True
        out.append(replace(ls, session=replace(ls.session, utterances=tuple(utts)), labels=labels) if swapped else None)
    return out
