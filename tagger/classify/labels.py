"""The label space a classifier predicts and the encoding of gold labels into masked targets."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tagger.io.labeled import MAIN, TALK, GoldLabels
from tagger.taxonomy import CLIENT_TALK_CODES, MAIN_BEHAVIOURS, RISK_FLAG, load_taxonomy

IGNORE = -100


@dataclass(frozen=True)
class LabelSpace:
    therapist: tuple[str, ...]
    main: tuple[str, ...] = MAIN_BEHAVIOURS
    talk: tuple[str, ...] = CLIENT_TALK_CODES

    @classmethod
    def default(cls) -> LabelSpace:
        return cls(therapist=load_taxonomy().predictable_therapist_ids)


@dataclass(frozen=True)
class Targets:
    """Targets for N utterances; masks are 1 where the gold source annotates that label."""

    therapist: np.ndarray  # (N, C) float32
    therapist_mask: np.ndarray  # (N, C) float32
    main: np.ndarray  # (N,) int64, IGNORE where unknown
    talk: np.ndarray  # (N,) int64, IGNORE where unknown
    risk: np.ndarray  # (N,) float32
    risk_mask: np.ndarray  # (N,) float32


def encode_targets(space: LabelSpace, speakers: list[str], gold: list[GoldLabels | None]) -> Targets:
    n, c = len(speakers), len(space.therapist)
    th = np.zeros((n, c), np.float32)
    thm = np.zeros((n, c), np.float32)
    main = np.full(n, IGNORE, np.int64)
    talk = np.full(n, IGNORE, np.int64)
    risk = np.zeros(n, np.float32)
    riskm = np.zeros(n, np.float32)
    col = {code: j for j, code in enumerate(space.therapist)}
    for i, (spk, g) in enumerate(zip(speakers, gold, strict=True)):
        if g is None:
            continue
        if spk == "therapist":
            for code in g.observed:
                j = col.get(code)
                if j is not None:
                    thm[i, j] = 1.0
                    th[i, j] = 1.0 if code in g.codes else 0.0
            if MAIN in g.observed and g.main_behaviour is not None:
                main[i] = space.main.index(g.main_behaviour)
        else:
            if TALK in g.observed and g.client_talk is not None:
                talk[i] = space.talk.index(g.client_talk)
            if RISK_FLAG in g.observed and g.risk_indicator is not None:
                risk[i] = float(g.risk_indicator)
                riskm[i] = 1.0
    return Targets(th, thm, main, talk, risk, riskm)
