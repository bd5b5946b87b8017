"""Cheap dialogue-context features: what a reflection or an answer shares with the turn before.

Computed once per session with set operations; the encoder sees each utterance only once and
the sequence layer of the network carries the rest of the context.
"""

from __future__ import annotations

import math
import re

import numpy as np

N_FEATURES = 8
_WORD = re.compile(r"[a-z']+")
_STOP = frozenset(
    "a an the and or but so if to of in on at for with about as is are was were be been am i you he she it we they me "
    "my your his her its our their this that these those there here what which who how when where why do does did "
    "have has had not no yes yeah okay ok uh um mm hmm like just really very can could would should will just well "
    "oh right know mean think get got go going kind sort thing things".split()
)


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def prev_other_index(speakers: list[str]) -> np.ndarray:
    """Index of the latest earlier utterance by the other role, -1 where there is none."""
    out = np.full(len(speakers), -1, np.int64)
    last = {"therapist": -1, "client": -1}
    for i, spk in enumerate(speakers):
        out[i] = last["client" if spk == "therapist" else "therapist"]
        last[spk] = i
    return out


def session_features(texts: list[str], speakers: list[str]) -> np.ndarray:
    """(N, N_FEATURES) float32: question marks, length, overlap with the last other-speaker turn."""
    n = len(texts)
    out = np.zeros((n, N_FEATURES), np.float32)
    contents = [_content(t) for t in texts]
    last_other: dict[str, int] = {}
    for i, (text, spk) in enumerate(zip(texts, speakers, strict=True)):
        t = text.strip()
        words = len(t.split())
        out[i, 0] = float(t.endswith("?"))
        out[i, 1] = float("?" in t)
        out[i, 2] = math.log1p(words) / 5.0
        out[i, 3] = float(i > 0 and speakers[i - 1] != spk)
        j = last_other.get(spk)
        if j is not None and contents[i] and contents[j]:
            shared = len(contents[i] & contents[j])
            out[i, 4] = shared / len(contents[i])
            out[i, 5] = shared / len(contents[j])
        out[i, 6] = float(spk == "therapist")
        out[i, 7] = float(i == 0)
        other = "client" if spk == "therapist" else "therapist"
        last_other[other] = i
    return out
