"""Session-level MITI 4.2.1 summary scores from utterance codes, and predicted-vs-gold agreement.

Scores (see TAXONOMY.md, "Derived research metrics"):

- ``r_q``: (simple + complex reflections + summaries) / (open + closed questions)
- ``pct_cr``: complex / (simple + complex reflections)
- ``mi_adherent``: affirmations + seeking collaboration + emphasizing autonomy (count)
- ``mi_non_adherent``: confrontations + advice without permission (count)
- ``pct_change_talk``: change talk / (change + sustain talk)

A gold source annotates only some codes (AnnoMI has no summary, affirmation, autonomy or
confrontation), so a score uses only the codes in ``codes``, the same for gold and prediction;
the report lists them. Advice counts as given *with* permission when the same or the previous
therapist utterance seeks collaboration (asks permission): a transcript-only approximation
of MITI's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tagger.evaluation.agreement import icc, pearson
from tagger.evaluation.metrics import opt

REFLECTIONS = ("simple_reflection", "complex_reflection", "summary")
QUESTIONS = ("open_question", "closed_question")
ADHERENT = ("affirmation", "seeking_collaboration", "emphasizing_autonomy")
NON_ADHERENT = ("confrontation", "advice")
SCORES = ("r_q", "pct_cr", "mi_adherent", "mi_non_adherent", "pct_change_talk")

#: Therapist codes each score needs (all of them must be observed for the score to mean the
#: same as in MITI; with some missing it is computed from the rest and flagged ``partial``).
SCORE_CODES: dict[str, tuple[str, ...]] = {
    "r_q": REFLECTIONS + QUESTIONS,
    "pct_cr": ("simple_reflection", "complex_reflection"),
    "mi_adherent": ADHERENT,
    "mi_non_adherent": NON_ADHERENT,
    "pct_change_talk": (),
}


def _ratio(num: int, den: int) -> float | None:
    return None if den == 0 else num / den


def summary_scores(
    therapist: Sequence[frozenset[str]],
    client_talk: Sequence[str | None],
    codes: frozenset[str],
    talk_observed: bool = True,
) -> dict[str, float | None]:
    """MITI summary scores of one session.

    ``therapist``: the code sets of its therapist utterances in spoken order; ``client_talk``:
    the talk type of each client utterance; ``codes``: the therapist codes to count (those the
    gold observes). A score is ``None`` when undefined (no questions for R:Q) or not observed.
    """

    def n(code: str) -> int:
        return sum(code in cs for cs in therapist) if code in codes else 0

    def observed(names: Sequence[str]) -> bool:
        return any(c in codes for c in names)

    advice_unpermitted = 0
    if "advice" in codes:
        prev: frozenset[str] = frozenset()
        for cs in therapist:
            if "advice" in cs and "seeking_collaboration" not in (cs | prev):
                advice_unpermitted += 1
            prev = cs
    refl = sum(n(c) for c in REFLECTIONS)
    quest = sum(n(c) for c in QUESTIONS)
    change = sum(t == "change_talk" for t in client_talk)
    sustain = sum(t == "sustain_talk" for t in client_talk)
    return {
        "r_q": _ratio(refl, quest) if observed(REFLECTIONS) and observed(QUESTIONS) else None,
        "pct_cr": _ratio(n("complex_reflection"), n("simple_reflection") + n("complex_reflection"))
        if {"simple_reflection", "complex_reflection"} <= codes
        else None,
        "mi_adherent": float(sum(n(c) for c in ADHERENT)) if observed(ADHERENT) else None,
        "mi_non_adherent": float(n("confrontation") + advice_unpermitted) if observed(NON_ADHERENT) else None,
        "pct_change_talk": _ratio(change, change + sustain) if talk_observed else None,
    }


@dataclass(frozen=True)
class ScoreAgreement:
    """Predicted vs gold values of one MITI score across sessions."""

    score: str
    n_sessions: int  # sessions where both values are defined
    codes_used: tuple[str, ...]
    partial: bool  # some of the codes MITI uses are not annotated by the gold
    gold_mean: float | None
    pred_mean: float | None
    mae: float | None
    pearson: float | None
    icc_2_1: float | None  # two-way random, absolute agreement
    icc_3_1: float | None  # two-way mixed, consistency


@dataclass(frozen=True)
class SessionMiti:
    session_id: str
    gold: dict[str, float | None]
    pred: dict[str, float | None]


def score_agreement(
    score: str, gold: Sequence[float | None], pred: Sequence[float | None], codes: frozenset[str]
) -> ScoreAgreement:
    """Agreement of one score over sessions; sessions where either value is undefined are skipped."""
    pairs = np.array([(g, p) for g, p in zip(gold, pred, strict=True) if g is not None and p is not None], dtype=float)
    pairs = pairs.reshape(-1, 2)
    needed = SCORE_CODES[score]
    used = tuple(c for c in needed if c in codes)
    n = pairs.shape[0]
    return ScoreAgreement(
        score=score,
        n_sessions=n,
        codes_used=used,
        partial=len(used) < len(needed),
        gold_mean=opt(pairs[:, 0].mean()) if n else None,
        pred_mean=opt(pairs[:, 1].mean()) if n else None,
        mae=opt(np.abs(pairs[:, 0] - pairs[:, 1]).mean()) if n else None,
        pearson=opt(pearson(pairs[:, 0], pairs[:, 1])) if n >= 2 else None,
        icc_2_1=opt(icc(pairs, "2,1")) if n >= 2 else None,
        icc_3_1=opt(icc(pairs, "3,1")) if n >= 2 else None,
    )
