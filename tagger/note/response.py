"""Client response: change vs sustain talk (overall and right after interventions), engagement."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from tagger.note.evidence import cite, client_talk, strongest, therapist_codes
from tagger.note.types import Evidence, Statement, timestamp
from tagger.taxonomy import load_taxonomy
from tagger.types import TaggedUtterance

FAMILY_TITLES: dict[str, str] = {
    "cbt": "CBT", "skills": "Skills (DBT)", "mi": "Motivational interviewing (MI)", "act": "ACT",
    "psychodynamic": "Psychodynamic", "supportive": "Supportive", "risk": "Risk", "planning": "Planning",
}
FAMILY_ORDER: tuple[str, ...] = tuple(FAMILY_TITLES)
TALK_WORDS = {"change_talk": "change talk", "sustain_talk": "sustain talk", "neutral": "neutral"}


def family_title(family: str) -> str:
    return FAMILY_TITLES.get(family, family.replace("_", " ").title())


@dataclass(frozen=True)
class Engagement:
    therapist_utterances: int
    client_utterances: int
    therapist_turns: int  # runs of consecutive utterances by one speaker
    client_turns: int
    client_share: float | None  # of talk time (seconds) or, when times are missing, of words
    share_basis: str  # "time" or "words"
    client_seconds: float | None
    therapist_seconds: float | None
    client_words: int
    therapist_words: int

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def engagement(items: Sequence[TaggedUtterance]) -> Engagement:
    turns: Counter[str] = Counter()
    prev = None
    for t in items:
        if t.utterance.speaker != prev:
            turns[t.utterance.speaker] += 1
            prev = t.utterance.speaker
    words: dict[str, int] = {"client": 0, "therapist": 0}
    secs: dict[str, float] = {"client": 0.0, "therapist": 0.0}
    timed = bool(items) and all(t.utterance.start is not None and t.utterance.end is not None for t in items)
    for t in items:
        u = t.utterance
        words[u.speaker] += len(u.text.split())
        if timed and u.start is not None and u.end is not None:
            secs[u.speaker] += u.end - u.start
    basis = "time" if timed and sum(secs.values()) > 0 else "words"
    tot: float = sum(secs.values()) if basis == "time" else sum(words.values())
    part: float = secs["client"] if basis == "time" else words["client"]
    n = Counter(t.utterance.speaker for t in items)
    return Engagement(n["therapist"], n["client"], turns["therapist"], turns["client"],
                      None if tot == 0 else part / tot, basis,
                      secs["client"] if basis == "time" else None, secs["therapist"] if basis == "time" else None,
                      words["client"], words["therapist"])


def engagement_statement(e: Engagement, group: str = "Engagement") -> Statement:
    if e.client_share is None:
        share = "talk-time share not available (no speech)"
    elif e.share_basis == "time":
        total = (e.client_seconds or 0) + (e.therapist_seconds or 0)
        share = (f"client spoke {e.client_share:.0%} of the talk time "
                 f"({timestamp(e.client_seconds)} of {timestamp(total)})")
    else:
        share = f"client spoke {e.client_share:.0%} of the words (no timestamps, so measured in words)"
    def n(k: int, word: str) -> str:
        return f"{k} {word}{'s' * (k != 1)}"

    text = (f"Engagement: {share}; client {n(e.client_turns, 'turn')} ({n(e.client_utterances, 'utterance')}), "
            f"therapist {n(e.therapist_turns, 'turn')} ({n(e.therapist_utterances, 'utterance')}).")
    return Statement(text, "engagement", group)


def talk_statements(items: Sequence[TaggedUtterance], group: str = "Client statements") -> list[Statement]:
    """Overall change / sustain talk with example quotes."""
    counts = Counter(client_talk(t) for t in items if t.utterance.speaker == "client")
    out = []
    ch, su, ne = counts["change_talk"], counts["sustain_talk"], counts["neutral"]
    if ch + su + ne == 0:
        return [Statement("No client utterances were labelled.", "info", group)]
    pct = f"; change talk {ch / (ch + su):.0%} of change + sustain talk" if ch + su else ""
    out.append(Statement(f"Client talk: {ch} change talk, {su} sustain talk, {ne} neutral utterance"
                         f"{'s' * (ne != 1)}{pct}.", "info", group))
    for code, what in (("change_talk", "in favour of change (change talk)"),
                       ("sustain_talk", "in favour of the status quo (sustain talk)")):
        carriers = [t for t in items if client_talk(t) == code]
        if carriers:
            ev = strongest(carriers, code, 2)
            out.append(Statement(f"Client statements {what}, {len(carriers)} utterance{'s' * (len(carriers) != 1)}; "
                                 "examples quoted.", "response", group, (code,), tuple(ev), count=len(carriers),
                                 review=all(e.review for e in ev)))
    return out


def _responses(items: Sequence[TaggedUtterance]) -> list[tuple[list[TaggedUtterance], TaggedUtterance]]:
    """(therapist run, the client utterance right after it) pairs."""
    pairs = []
    run: list[TaggedUtterance] = []
    for t in items:
        if t.utterance.speaker == "therapist":
            run.append(t)
        else:
            if run:
                pairs.append((run, t))
            run = []
    return pairs


def response_statements(items: Sequence[TaggedUtterance], group: str = "Client response to interventions"
                        ) -> list[Statement]:
    """Per family: what the client's next utterance was after that family's interventions."""
    tax = load_taxonomy()
    fam_of = {c.id: c.family for c in tax.therapist}
    by_family: dict[str, list[tuple[TaggedUtterance, TaggedUtterance]]] = {}
    for run, reply in _responses(items):
        seen: dict[str, TaggedUtterance] = {}
        for t in run:
            for c in therapist_codes(t):
                f = fam_of.get(c)
                if f:
                    seen.setdefault(f, t)  # the family's first utterance in the run stands for the run
        for f, t in seen.items():
            by_family.setdefault(f, []).append((t, reply))
    out = []
    for fam in sorted(by_family, key=lambda f: (FAMILY_ORDER.index(f) if f in FAMILY_ORDER else 99, f)):
        pairs = by_family[fam]
        counts = Counter(client_talk(r) for _, r in pairs)
        ch, su = counts["change_talk"], counts["sustain_talk"]
        if ch + su == 0:
            continue
        fam_codes = {c.id for c in tax.therapist if c.family == fam}
        ev: list[Evidence] = []
        codes: list[str] = []
        for talk in ("change_talk", "sustain_talk"):
            ex = [(t, r) for t, r in pairs if client_talk(r) == talk]
            if not ex:
                continue
            t, r = max(ex, key=lambda p: float(p[1].scores.get(talk, 0.0)))
            code = max((c for c in therapist_codes(t) if c in fam_codes), key=lambda c: float(t.scores.get(c, 0.0)))
            ev += [cite(t, code), cite(r, talk)]
            codes += [code, talk]
        n = len(pairs)
        text = (f"After {family_title(fam)} interventions ({n} therapist turn{'s' * (n != 1)} followed by a client "
                f"reply), the client's next utterance was change talk {ch}×, sustain talk {su}×, "
                f"neutral {counts['neutral']}×.")
        out.append(Statement(text, "response", group, tuple(dict.fromkeys(codes)), tuple(ev), family=fam, count=n,
                             review=all(e.review for e in ev)))
    if not out:
        out.append(Statement("No change or sustain talk was labelled directly after an intervention.", "info", group))
    return out
