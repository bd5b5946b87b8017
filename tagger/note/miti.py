"""MITI 4.2.1 summary scores for the supervision appendix.

The numbers come from :func:`tagger.evaluation.miti.summary_scores`, the project's one
definition (so a note and an evaluation report never disagree); this module adds what the
appendix needs on top: the utterances behind the MI-non-adherent count, and MITI's
fair/good thresholds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagger.evaluation.miti import summary_scores
from tagger.note.evidence import client_talk, therapist_codes
from tagger.taxonomy import load_taxonomy
from tagger.types import TaggedUtterance

#: MITI 4.2.1 thresholds (fair, good) for the two ratio scores.
THRESHOLDS: dict[str, tuple[float, float]] = {"r_q": (1.0, 2.0), "pct_cr": (0.4, 0.5)}


@dataclass(frozen=True)
class MitiSummary:
    r_q: float | None
    pct_cr: float | None
    mi_adherent: int
    mi_non_adherent: int
    pct_change_talk: float | None
    confrontations: tuple[str, ...]  # utterance ids
    advice_without_permission: tuple[str, ...]  # utterance ids

    def band(self, score: str) -> str | None:
        """``below fair`` / ``fair`` / ``good`` for R:Q and %CR, else ``None``."""
        v = getattr(self, score)
        if v is None or score not in THRESHOLDS:
            return None
        fair, good = THRESHOLDS[score]
        return "good" if v >= good else "fair" if v >= fair else "below fair"

    def to_dict(self) -> dict[str, object]:
        return {"r_q": self.r_q, "pct_cr": self.pct_cr, "mi_adherent": self.mi_adherent,
                "mi_non_adherent": self.mi_non_adherent, "pct_change_talk": self.pct_change_talk,
                "confrontations": list(self.confrontations),
                "advice_without_permission": list(self.advice_without_permission)}


def advice_without_permission(items: Sequence[TaggedUtterance]) -> list[TaggedUtterance]:
    """Advice not given with permission: the same rule as ``summary_scores`` (neither this nor the
    previous therapist utterance seeks collaboration)."""
    out = []
    prev: frozenset[str] = frozenset()
    for t in items:
        if t.utterance.speaker != "therapist":
            continue
        cs = frozenset(therapist_codes(t))
        if "advice" in cs and "seeking_collaboration" not in cs | prev:
            out.append(t)
        prev = cs
    return out


def miti_summary(items: Sequence[TaggedUtterance]) -> MitiSummary:
    """MITI summary scores of one session's tagged utterances, every code observed."""
    therapist = [frozenset(therapist_codes(t)) for t in items if t.utterance.speaker == "therapist"]
    talk = [client_talk(t) for t in items if t.utterance.speaker == "client"]
    codes = frozenset(load_taxonomy().predictable_therapist_ids)
    s = summary_scores(therapist, talk, codes)
    return MitiSummary(
        r_q=s["r_q"], pct_cr=s["pct_cr"], mi_adherent=int(s["mi_adherent"] or 0),
        mi_non_adherent=int(s["mi_non_adherent"] or 0), pct_change_talk=s["pct_change_talk"],
        confrontations=tuple(t.utterance.utterance_id for t in items if "confrontation" in therapist_codes(t)),
        advice_without_permission=tuple(t.utterance.utterance_id for t in advice_without_permission(items)),
    )
