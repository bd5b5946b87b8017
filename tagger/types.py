"""Frozen result types shared by every stage, with JSON round-trip.

The JSONL record of a :class:`TaggedUtterance` (``to_record``) is the output contract of
``tagger tag`` / ``tagger run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["therapist", "client"]
ROLES: tuple[str, ...] = ("therapist", "client")


@dataclass(frozen=True)
class Utterance:
    """One speaker turn, or a sentence-level segment of a turn (``parent_id`` set)."""

    session_id: str
    utterance_id: str
    speaker: Role
    text: str
    speaker_label: str | None = None
    start: float | None = None
    end: float | None = None
    parent_id: str | None = None

    def __post_init__(self) -> None:
        if self.speaker not in ROLES:
            raise ValueError(f"speaker must be 'therapist' or 'client', got {self.speaker!r}")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"utterance {self.utterance_id}: end {self.end} is before start {self.start}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "utterance_id": self.utterance_id,
            "speaker": self.speaker,
            "speaker_label": self.speaker_label,
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "parent_id": self.parent_id,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Utterance:
        return cls(
            session_id=str(d["session_id"]),
            utterance_id=str(d["utterance_id"]),
            speaker=d["speaker"],
            text=d["text"],
            speaker_label=d.get("speaker_label"),
            start=_opt_float(d.get("start")),
            end=_opt_float(d.get("end")),
            parent_id=d.get("parent_id"),
        )


@dataclass(frozen=True)
class Session:
    """An ordered transcript of one session."""

    session_id: str
    utterances: tuple[Utterance, ...]
    source: str | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "source": self.source,
            "metadata": dict(self.metadata),
            "utterances": [u.to_dict() for u in self.utterances],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Session:
        sid = str(d["session_id"])
        utts = tuple(Utterance.from_dict({"session_id": sid, **u}) for u in d["utterances"])
        meta = tuple(sorted((str(k), str(v)) for k, v in (d.get("metadata") or {}).items()))
        return cls(session_id=sid, utterances=utts, source=d.get("source"), metadata=meta)


@dataclass(frozen=True)
class Tag:
    """A predicted code with its calibrated probability."""

    code: str
    score: float


@dataclass(frozen=True)
class TaggedUtterance:
    """An utterance with its predicted labels.

    ``scores`` holds the probability of every code the model scores for this speaker role
    (therapist codes, or the client talk types and ``risk_indicator``); ``codes`` holds the
    codes whose score passed their tuned threshold (``["other"]`` for a therapist utterance
    with none). ``review`` lists codes whose score sits close to the threshold.
    """

    utterance: Utterance
    codes: tuple[str, ...]
    scores: Mapping[str, float] = field(hash=False, compare=True)
    main_behaviour: str | None = None
    client_talk: str | None = None
    risk_indicator: bool = False
    evidence: Mapping[str, str] = field(default_factory=dict, hash=False, compare=True)
    review: tuple[str, ...] = ()

    @property
    def tags(self) -> tuple[Tag, ...]:
        return tuple(Tag(c, float(self.scores.get(c, 1.0))) for c in self.codes)

    def to_record(self) -> dict[str, Any]:
        """The JSONL output record (the contract of ``tagger tag``)."""
        u = self.utterance
        rec: dict[str, Any] = {
            "session_id": u.session_id,
            "utterance_id": u.utterance_id,
            "speaker": u.speaker,
            "speaker_label": u.speaker_label,
            "text": u.text,
            "start": u.start,
            "end": u.end,
            "codes": list(self.codes),
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "main_behaviour": self.main_behaviour,
            "client_talk": self.client_talk,
            "risk_indicator": bool(self.risk_indicator),
        }
        if self.review:
            rec["review"] = list(self.review)
        if self.evidence:
            rec["evidence"] = dict(self.evidence)
        return rec

    @classmethod
    def from_record(cls, d: Mapping[str, Any]) -> TaggedUtterance:
        utt = Utterance(
            session_id=str(d["session_id"]),
            utterance_id=str(d["utterance_id"]),
            speaker=d["speaker"],
            text=d["text"],
            speaker_label=d.get("speaker_label"),
            start=_opt_float(d.get("start")),
            end=_opt_float(d.get("end")),
        )
        return cls(
            utterance=utt,
            codes=tuple(d.get("codes") or ()),
            scores={str(k): float(v) for k, v in (d.get("scores") or {}).items()},
            main_behaviour=d.get("main_behaviour"),
            client_talk=d.get("client_talk"),
            risk_indicator=bool(d.get("risk_indicator", False)),
            evidence=dict(d.get("evidence") or {}),
            review=tuple(d.get("review") or ()),
        )


def _opt_float(v: Any) -> float | None:
    if v is None or v == "":
        return None
    return float(v)
