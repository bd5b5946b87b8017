"""Turn aligned utterances into per-session count tables (the input of every metric).

Only labels the gold observes are counted: a therapist code counts on a therapist
utterance whose ``GoldLabels.observed`` names it; client talk and the risk flag count on
client utterances whose gold gives them; the 4-way main behaviour counts where the gold
gives one. A prediction without a main behaviour or talk type counts as ``(none)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from tagger.evaluation.align import AlignedSession
from tagger.evaluation.metrics import NONE_LABEL
from tagger.io.labeled import MAIN, TALK, GoldLabels
from tagger.taxonomy import CLIENT_TALK_CODES, MAIN_BEHAVIOURS, RISK_FLAG, load_taxonomy
from tagger.types import TaggedUtterance

MAIN_LABELS: tuple[str, ...] = MAIN_BEHAVIOURS + (NONE_LABEL,)
TALK_LABELS: tuple[str, ...] = CLIENT_TALK_CODES + (NONE_LABEL,)
CLIENT_CODES: tuple[str, ...] = CLIENT_TALK_CODES + (RISK_FLAG,)


@dataclass(frozen=True)
class View:
    """The labels of one utterance as seen by one rater (the model or an annotator)."""

    codes: frozenset[str]
    main_behaviour: str | None
    client_talk: str | None
    risk_indicator: bool | None


def pred_view(t: TaggedUtterance) -> View:
    talk = t.client_talk or next((c for c in t.codes if c in CLIENT_TALK_CODES), None)
    return View(frozenset(t.codes), t.main_behaviour, talk, bool(t.risk_indicator))


def gold_view(g: GoldLabels) -> View:
    return View(g.codes, g.main_behaviour, g.client_talk, g.risk_indicator)


@dataclass(frozen=True)
class Layout:
    """Which codes are scored, in report order."""

    therapist: tuple[str, ...]
    client: tuple[str, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return self.therapist + self.client


def layout_for(sessions: Sequence[AlignedSession]) -> Layout:
    """The taxonomy codes the gold observes somewhere, in taxonomy order."""
    observed: set[str] = set()
    has_talk = has_risk = False
    for s in sessions:
        for u in s.utterances:
            if u.speaker == "therapist":
                observed |= u.gold.observed
            else:
                has_talk |= TALK in u.gold.observed and u.gold.client_talk is not None
                has_risk |= RISK_FLAG in u.gold.observed and u.gold.risk_indicator is not None
    therapist = tuple(c for c in load_taxonomy().therapist_ids if c in observed)
    client = (CLIENT_TALK_CODES if has_talk else ()) + ((RISK_FLAG,) if has_risk else ())
    return Layout(therapist, client)


@dataclass(frozen=True, eq=False)
class Counts:
    """Counts of one session (or a sum): ``codes`` ``(K, 4)`` tp/fp/fn/tn per layout code,
    ``main`` and ``talk`` confusion matrices over :data:`MAIN_LABELS` / :data:`TALK_LABELS`."""

    codes: np.ndarray
    main: np.ndarray
    talk: np.ndarray
    n_utterances: int


def count(items: Iterable[tuple[str, GoldLabels, View]], layout: Layout) -> Counts:
    """Count ``(gold role, gold labels, rater view)`` triples under ``layout``."""
    k_index = {c: i for i, c in enumerate(layout.codes)}
    codes = np.zeros((len(layout.codes), 4), dtype=np.int64)
    main = np.zeros((len(MAIN_LABELS),) * 2, dtype=np.int64)
    talk = np.zeros((len(TALK_LABELS),) * 2, dtype=np.int64)
    n = 0

    def add(code: str, g: bool, p: bool) -> None:
        codes[k_index[code], 0 if g and p else 1 if p else 2 if g else 3] += 1

    for speaker, gold, view in items:
        n += 1
        if speaker == "therapist":
            for c in layout.therapist:
                if c in gold.observed:
                    add(c, c in gold.codes, c in view.codes)
            if MAIN in gold.observed and gold.main_behaviour is not None:
                p = view.main_behaviour if view.main_behaviour in MAIN_BEHAVIOURS else NONE_LABEL
                main[MAIN_LABELS.index(gold.main_behaviour), MAIN_LABELS.index(p)] += 1
            continue
        if TALK in gold.observed and gold.client_talk is not None:
            p = view.client_talk if view.client_talk in CLIENT_TALK_CODES else NONE_LABEL
            talk[TALK_LABELS.index(gold.client_talk), TALK_LABELS.index(p)] += 1
            for c in CLIENT_TALK_CODES:
                if c in k_index:
                    add(c, gold.client_talk == c, view.client_talk == c)
        if RISK_FLAG in gold.observed and gold.risk_indicator is not None and RISK_FLAG in k_index:
            add(RISK_FLAG, bool(gold.risk_indicator), bool(view.risk_indicator))
    return Counts(codes, main, talk, n)


@dataclass(frozen=True, eq=False)
class SessionTables:
    """Per-session counts of one system: arrays with the session on axis 0."""

    session_ids: tuple[str, ...]
    topics: tuple[str | None, ...]
    layout: Layout
    codes: np.ndarray  # (S, K, 4)
    main: np.ndarray  # (S, L, L)
    talk: np.ndarray  # (S, T, T)
    n_utterances: np.ndarray  # (S,)


def session_tables(sessions: Sequence[AlignedSession], layout: Layout) -> SessionTables:
    per = [count(((u.speaker, u.gold, pred_view(u.pred)) for u in s.utterances), layout) for s in sessions]
    return SessionTables(
        session_ids=tuple(s.session_id for s in sessions),
        topics=tuple(s.topic for s in sessions),
        layout=layout,
        codes=np.stack([c.codes for c in per]),
        main=np.stack([c.main for c in per]),
        talk=np.stack([c.talk for c in per]),
        n_utterances=np.array([c.n_utterances for c in per]),
    )


def code_events(sessions: Sequence[AlignedSession], layout: Layout) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Score events ``(probabilities, outcomes)`` per code the gold observes and the model scored:
    therapist codes on therapist rows, talk types and the risk flag on client rows."""
    events: dict[str, tuple[list[float], list[bool]]] = {}
    for s in sessions:
        for u in s.utterances:
            scores, g = u.pred.scores, u.gold
            if u.speaker == "therapist":
                pairs = [(c, c in g.codes) for c in layout.therapist if c in g.observed]
            else:
                pairs = []
                if TALK in g.observed and g.client_talk is not None:
                    pairs += [(c, g.client_talk == c) for c in CLIENT_TALK_CODES]
                if RISK_FLAG in g.observed and g.risk_indicator is not None:
                    pairs.append((RISK_FLAG, bool(g.risk_indicator)))
            for c, y in pairs:
                if c in scores:
                    probs, outcomes = events.setdefault(c, ([], []))
                    probs.append(float(scores[c]))
                    outcomes.append(y)
    return {k: (np.array(p, dtype=float), np.array(y, dtype=bool)) for k, (p, y) in events.items()}


def role_events(
    per_code: dict[str, tuple[np.ndarray, np.ndarray]], layout: Layout
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Calibration events ``(probabilities, outcomes)`` per role (``therapist``, ``client``): the
    :func:`code_events` of each role's codes pooled."""
    out = {}
    for role, codes in (("therapist", layout.therapist), ("client", CLIENT_CODES)):
        parts = [per_code[c] for c in codes if c in per_code]
        if parts:
            out[role] = (np.concatenate([p for p, _ in parts]), np.concatenate([y for _, y in parts]))
    return out
