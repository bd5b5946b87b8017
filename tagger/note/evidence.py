"""Which utterances carry a label, and how one is cited."""

from __future__ import annotations

from collections.abc import Sequence

from tagger.note.types import Evidence
from tagger.taxonomy import CLIENT_TALK_CODES, OTHER, RISK_FLAG
from tagger.types import TaggedUtterance

MAX_QUOTE_CHARS = 240


def client_talk(t: TaggedUtterance) -> str | None:
    """The talk type of a client utterance (``client_talk``, else the talk code in ``codes``)."""
    if t.utterance.speaker != "client":
        return None
    if t.client_talk in CLIENT_TALK_CODES:
        return t.client_talk
    return next((c for c in t.codes if c in CLIENT_TALK_CODES), None)


def is_risk(t: TaggedUtterance) -> bool:
    return t.utterance.speaker == "client" and (t.risk_indicator or RISK_FLAG in t.codes)


def therapist_codes(t: TaggedUtterance) -> tuple[str, ...]:
    """Intervention codes of a therapist utterance (``other`` dropped)."""
    if t.utterance.speaker != "therapist":
        return ()
    return tuple(c for c in t.codes if c != OTHER)


def has_code(t: TaggedUtterance, code: str) -> bool:
    """Whether the labels of ``t`` support ``code`` (a therapist code, a talk type or the risk flag)."""
    if code == RISK_FLAG:
        return is_risk(t)
    if code in CLIENT_TALK_CODES:
        return client_talk(t) == code
    return code in therapist_codes(t)


def shorten(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def cite(t: TaggedUtterance, code: str | None = None) -> Evidence:
    """Evidence for ``code`` on ``t``: the sentence that carries it in a long turn, else the utterance."""
    u = t.utterance
    quote = (t.evidence.get(code) if code else None) or u.text
    conf = t.scores.get(code) if code else None
    return Evidence(utterance_id=u.utterance_id, speaker=u.speaker, quote=shorten(quote), code=code, start=u.start,
                    confidence=None if conf is None else round(float(conf), 3), review=bool(code and code in t.review))


def strongest(items: Sequence[TaggedUtterance], code: str, k: int = 3) -> list[Evidence]:
    """Up to ``k`` citations of ``code``, the most confident first chosen, shown in session order."""
    order = {id(t): i for i, t in enumerate(items)}
    ranked = sorted(items, key=lambda t: (-float(t.scores.get(code, 0.0)), order[id(t)]))[:k]
    return [cite(t, code) for t in sorted(ranked, key=lambda t: order[id(t)])]
