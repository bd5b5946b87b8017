"""Frozen result types of a drafted note: Note -> Section -> Statement -> Evidence.

Every statement about an intervention, a client response or risk carries the utterances that
support it (:class:`Evidence`); ``Statement.codes`` names the codes it claims, so a reader, or
the evidence-guard test, can check each claim against the labels of the cited utterances.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

NoteFormat = Literal["soap", "dap", "birp"]
NOTE_FORMATS: tuple[str, ...] = ("soap", "dap", "birp")
CLINICIAN = "[clinician to complete]"

#: What a statement is about. ``intervention``, ``response``, ``risk`` and ``plan`` statements name the
#: codes they claim and cite, for every one of them, an utterance whose labels carry it.
Kind = Literal["intervention", "response", "risk", "measure", "plan", "client", "engagement", "miti", "placeholder",
               "info"]
EVIDENCED_KINDS: tuple[str, ...] = ("intervention", "response", "risk", "plan")


def timestamp(seconds: float | None) -> str | None:
    """``mm:ss`` (``h:mm:ss`` past an hour), or ``None`` when the time is unknown."""
    if seconds is None:
        return None
    s = max(0, int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def where(utterance_id: str, start: float | None) -> str:
    """How statements refer to an utterance: ``utterance u018 at 01:14``."""
    return f"utterance {utterance_id}" + (f" at {timestamp(start)}" if start is not None else "")


@dataclass(frozen=True)
class Evidence:
    """One cited utterance: where it is, what it says, and how sure the label is."""

    utterance_id: str
    speaker: str
    quote: str
    code: str | None = None  # the label this citation supports
    start: float | None = None
    confidence: float | None = None  # the model's probability for ``code``
    review: bool = False  # the label sits near its threshold: a clinician should check it

    @property
    def time(self) -> str | None:
        return timestamp(self.start)

    def to_dict(self) -> dict[str, Any]:
        return {"utterance_id": self.utterance_id, "speaker": self.speaker, "time": self.time, "start": self.start,
                "quote": self.quote, "code": self.code, "confidence": self.confidence, "review": self.review}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(utterance_id=str(d["utterance_id"]), speaker=d["speaker"], quote=d["quote"], code=d.get("code"),
                   start=d.get("start"), confidence=d.get("confidence"), review=bool(d.get("review", False)))


@dataclass(frozen=True)
class Statement:
    """One sentence of the note and the evidence behind it."""

    text: str
    kind: Kind
    group: str  # sub-heading inside a section ("Interventions: CBT", "Risk", "Measures", ...)
    codes: tuple[str, ...] = ()  # codes the statement claims; each is supported by some evidence
    evidence: tuple[Evidence, ...] = ()
    family: str | None = None  # intervention family the statement is about, if any
    count: int | None = None  # how many utterances carry the code(s), where the text states a count
    review: bool = False  # every supporting label is near threshold
    flag: bool = False  # needs the clinician's attention (shown prominently)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "group": self.group, "codes": list(self.codes),
                "family": self.family, "count": self.count, "review": self.review, "flag": self.flag,
                "evidence": [e.to_dict() for e in self.evidence]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Statement:
        return cls(text=d["text"], kind=d["kind"], group=d["group"], codes=tuple(d.get("codes") or ()),
                   evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence") or ()), family=d.get("family"),
                   count=d.get("count"), review=bool(d.get("review", False)), flag=bool(d.get("flag", False)))


@dataclass(frozen=True)
class Section:
    key: str  # "S", "O", "A", "P", "D", "B", "I", "R", "alerts", "appendix"
    title: str
    statements: tuple[Statement, ...]

    def groups(self) -> list[tuple[str, list[Statement]]]:
        """Statements grouped by ``group``, in first-seen order (renderers show one sub-heading each)."""
        out: dict[str, list[Statement]] = {}
        for s in self.statements:
            out.setdefault(s.group, []).append(s)
        return list(out.items())

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "statements": [s.to_dict() for s in self.statements]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Section:
        return cls(key=d["key"], title=d["title"], statements=tuple(Statement.from_dict(s) for s in d["statements"]))


@dataclass(frozen=True)
class TranscriptLine:
    """A transcript line shown under the note (the target of evidence links)."""

    utterance_id: str
    speaker: str
    text: str
    start: float | None = None
    codes: tuple[str, ...] = ()
    review: tuple[str, ...] = ()

    @property
    def time(self) -> str | None:
        return timestamp(self.start)

    def to_dict(self) -> dict[str, Any]:
        return {"utterance_id": self.utterance_id, "speaker": self.speaker, "time": self.time, "start": self.start,
                "text": self.text, "codes": list(self.codes), "review": list(self.review)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TranscriptLine:
        return cls(utterance_id=str(d["utterance_id"]), speaker=d["speaker"], text=d["text"], start=d.get("start"),
                   codes=tuple(d.get("codes") or ()), review=tuple(d.get("review") or ()))


@dataclass(frozen=True)
class NoteHeader:
    session_id: str
    source: str | None
    model: str | None  # model name/version that produced the labels
    tagger_version: str
    drafted_at: str  # ISO timestamp of drafting (not the session date)
    session_date: str = CLINICIAN
    clinician: str = CLINICIAN
    deidentified: bool = False
    signed_by: str | None = None  # set when a clinician signed this note (e.g. in the web app)
    signed_at: str | None = None
    disclaimer: str = ("Generated from automatic utterance labels of the session transcript. A clinician must review, "
                       "correct and sign it before it enters the record.")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> NoteHeader:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class Note:
    """A drafted progress note. ``alerts`` (risk flags) is shown before the format's sections."""

    format: NoteFormat
    header: NoteHeader
    alerts: Section | None
    sections: tuple[Section, ...]
    appendix: Section
    transcript: tuple[TranscriptLine, ...] = field(default=(), compare=False)
    metrics: Mapping[str, Any] = field(default_factory=dict, compare=False)  # MITI scores, counts, engagement

    @property
    def signed(self) -> bool:
        return self.header.signed_by is not None

    @property
    def title(self) -> str:
        state = "signed" if self.signed else "draft"
        return {"soap": "SOAP", "dap": "DAP", "birp": "BIRP"}[self.format] + f" progress note ({state})"

    @property
    def banner(self) -> str:
        """The status line every rendering shows above the note."""
        if self.signed:
            return f"Signed by {self.header.signed_by} on {self.header.signed_at}."
        return "AI-drafted note — requires clinician review."

    def all_statements(self) -> list[Statement]:
        secs = ([self.alerts] if self.alerts else []) + list(self.sections) + [self.appendix]
        return [s for sec in secs for s in sec.statements]

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "title": self.title, "header": self.header.to_dict(),
                "alerts": self.alerts.to_dict() if self.alerts else None,
                "sections": [s.to_dict() for s in self.sections], "appendix": self.appendix.to_dict(),
                "metrics": dict(self.metrics), "transcript": [t.to_dict() for t in self.transcript]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Note:
        return cls(format=d["format"], header=NoteHeader.from_dict(d["header"]),
                   alerts=Section.from_dict(d["alerts"]) if d.get("alerts") else None,
                   sections=tuple(Section.from_dict(s) for s in d["sections"]),
                   appendix=Section.from_dict(d["appendix"]),
                   transcript=tuple(TranscriptLine.from_dict(t) for t in d.get("transcript") or ()),
                   metrics=dict(d.get("metrics") or {}))
