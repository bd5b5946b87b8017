"""What the session page shows, derived from the tagged utterances: coloured code chips per family and
the intervention timeline (an SVG drawn on the server, so the page needs no chart library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from tagger.note.response import family_title
from tagger.note.types import timestamp
from tagger.taxonomy import CLIENT_TALK_CODES, OTHER, RISK_FLAG, load_taxonomy
from tagger.types import TaggedUtterance

COLOURS = {"mi": "#2563eb", "cbt": "#7c3aed", "skills": "#0d9488", "act": "#65a30d", "psychodynamic": "#b45309",
           "supportive": "#db2777", "risk": "#dc2626", "planning": "#0891b2", "other": "#6b7280",
           "client": "#475569", "change_talk": "#15803d", "sustain_talk": "#c2410c", "neutral": "#64748b"}
TIMELINE_WIDTH = 900
ROW_HEIGHT = 22


@dataclass(frozen=True)
class Chip:
    code: str
    label: str
    family: str
    colour: str
    review: bool


@dataclass(frozen=True)
class Line:
    utterance_id: str
    speaker: str
    speaker_label: str
    text: str
    start: float | None
    time: str | None
    chips: tuple[Chip, ...]
    families: tuple[str, ...]
    risk: bool


@dataclass(frozen=True)
class Mark:
    x: float
    utterance_id: str
    code: str
    time: str | None


@dataclass(frozen=True)
class TimelineRow:
    family: str
    title: str
    colour: str
    marks: tuple[Mark, ...]


@lru_cache(maxsize=1)
def _families() -> dict[str, str]:
    return {c.id: c.family for c in load_taxonomy().therapist}


def family_of(code: str) -> str:
    if code == RISK_FLAG:
        return "risk"
    if code in CLIENT_TALK_CODES:
        return code
    return _families().get(code, OTHER)


def family_label(family: str) -> str:
    if family in CLIENT_TALK_CODES:
        return family.replace("_", " ")
    return family_title(family) if family != OTHER else "other"


def lines(tagged: Sequence[TaggedUtterance]) -> list[Line]:
    out = []
    for t in tagged:
        u = t.utterance
        codes = [c for c in t.codes if c != OTHER]
        if t.risk_indicator and RISK_FLAG not in codes:
            codes.append(RISK_FLAG)
        chips = tuple(Chip(c, c.replace("_", " "), family_of(c), COLOURS.get(family_of(c), COLOURS["other"]),
                           c in t.review) for c in codes)
        out.append(Line(u.utterance_id, u.speaker, u.speaker_label or u.speaker, u.text, u.start, timestamp(u.start),
                        chips, tuple(dict.fromkeys(ch.family for ch in chips)), bool(t.risk_indicator)))
    return out


def filter_families(items: Sequence[Line]) -> list[tuple[str, str, str]]:
    """(family, label, colour) of every family present, in taxonomy order, for the filter buttons."""
    present = {f for ln in items for f in ln.families}
    order = list(load_taxonomy().families) + list(CLIENT_TALK_CODES)
    return [(f, family_label(f), COLOURS.get(f, COLOURS["other"])) for f in order if f in present]


def timeline(tagged: Sequence[TaggedUtterance]) -> list[TimelineRow]:
    """One row per intervention family used, a mark per therapist utterance carrying one of its codes, placed
    by time (by position when the transcript has no times); client risk indicators go on the risk row."""
    if not tagged:
        return []
    timed = all(t.utterance.start is not None for t in tagged)
    if timed:
        end = max((t.utterance.end or t.utterance.start or 0.0) for t in tagged) or 1.0

        def pos(i: int, t: TaggedUtterance) -> float:
            return TIMELINE_WIDTH * float(t.utterance.start or 0.0) / end
    else:
        def pos(i: int, t: TaggedUtterance) -> float:
            return TIMELINE_WIDTH * (i + 0.5) / len(tagged)

    rows: dict[str, list[Mark]] = {}
    for i, t in enumerate(tagged):
        u = t.utterance
        codes = [c for c in t.codes if c != OTHER and c not in CLIENT_TALK_CODES and u.speaker == "therapist"]
        if t.risk_indicator:
            codes.append(RISK_FLAG)
        for c in codes:
            rows.setdefault(family_of(c), []).append(Mark(round(pos(i, t), 1), u.utterance_id, c, timestamp(u.start)))
    order = [f for f in load_taxonomy().families if f in rows]
    return [TimelineRow(f, family_label(f), COLOURS.get(f, COLOURS["other"]), tuple(rows[f])) for f in order]
