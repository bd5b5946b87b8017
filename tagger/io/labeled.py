"""Gold-labelled transcripts: AnnoMI CSV (simple or full), the codes CSV and the project's JSONL.

Each source annotates only part of the taxonomy (AnnoMI has no CBT codes, no risk flag), so
every :class:`GoldLabels` carries ``observed``: the labels that source annotates at all. Training
masks the rest; evaluation scores only observed labels.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tagger.errors import InputError
from tagger.io.readers import read_transcript
from tagger.taxonomy import CLIENT_TALK_CODES, MAIN_BEHAVIOURS, OTHER, RISK_FLAG, load_taxonomy
from tagger.types import Session

#: Labels AnnoMI annotates (besides main behaviour and client talk).
ANNOMI_FULL_CODES = frozenset(
    {
        "open_question",
        "closed_question",
        "simple_reflection",
        "complex_reflection",
        "giving_information",
        "advice",
        "seeking_collaboration",
    }
)
MAIN = "main_behaviour"
TALK = "client_talk"

_ANNOMI_TALK = {"change": "change_talk", "sustain": "sustain_talk", "neutral": "neutral"}
_ANNOMI_INPUT = {
    "information": "giving_information",
    "advice": "advice",
    "negotiation": "seeking_collaboration",
    "options": "seeking_collaboration",
}
_QUESTION_CODES = frozenset({"open_question", "closed_question"})
_REFLECTION_CODES = frozenset({"simple_reflection", "complex_reflection", "summary"})
_INPUT_CODES = frozenset({"giving_information", "advice", "seeking_collaboration"})


@dataclass(frozen=True)
class GoldLabels:
    """Reference labels of one utterance.

    ``codes``: therapist codes (``{"other"}`` for none) or empty for a client. ``observed``: the
    label names this source annotates (therapist codes, plus ``main_behaviour``,
    ``client_talk``, ``risk_indicator`` when annotated).
    """

    codes: frozenset[str] = frozenset()
    main_behaviour: str | None = None
    client_talk: str | None = None
    risk_indicator: bool | None = None
    observed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class LabeledSession:
    session: Session
    labels: Mapping[str, GoldLabels] = field(hash=False)
    annotations: Mapping[str, Mapping[str, GoldLabels]] = field(default_factory=dict, hash=False)
    topic: str | None = None

    @property
    def session_id(self) -> str:
        return self.session.session_id


def derive_main_behaviour(codes: frozenset[str]) -> str | None:
    """AnnoMI's 4-way main behaviour implied by taxonomy codes, or None when ambiguous.

    Only MI codes decide: questions -> question, reflections/summary -> reflection,
    information/advice/collaboration -> therapist_input, ``other`` alone -> other. Mixed
    groups, or only non-MI codes, give None (no reference label).
    """
    if codes == {OTHER}:
        return "other"
    groups = [
        name
        for name, members in (
            ("question", _QUESTION_CODES),
            ("reflection", _REFLECTION_CODES),
            ("therapist_input", _INPUT_CODES),
        )
        if codes & members
    ]
    return groups[0] if len(groups) == 1 else None


def default_annomi_dir() -> Path:
    """``$TAGGER_ANNOMI_DIR``, else ``../shared/data/annomi`` next to the repository."""
    env = os.environ.get("TAGGER_ANNOMI_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "annomi"


def read_labeled(path: str | Path, *, fmt: str | None = None) -> list[LabeledSession]:
    """Read a gold file. ``fmt``: ``annomi``, ``codes`` (CSV with a codes column) or ``jsonl``."""
    p = Path(path)
    if p.is_dir():
        files = sorted(f for f in p.glob("*.csv") if f.name != "sessions.csv")
        if not files:
            raise InputError(f"{p}: no .csv session files in this folder")
        return [ls for f in files for ls in read_labeled(f, fmt=fmt)]
    if not p.is_file():
        raise InputError(f"{p}: no such file")
    head = p.read_text(encoding="utf-8-sig", errors="replace")[:2048].splitlines()[:1]
    first = head[0].lower() if head else ""
    kind = fmt or (
        "jsonl"
        if p.suffix.lower() == ".jsonl"
        else "annomi"
        if "interlocutor" in first
        else "codes"
        if "codes" in first
        else None
    )
    if kind == "annomi":
        return _read_annomi(p)
    if kind == "codes":
        return _read_codes_csv(p)
    if kind == "jsonl":
        return _read_jsonl(p)
    raise InputError(
        f"{p}: not a gold file I know: expected an AnnoMI CSV, a CSV with a 'codes' column "
        "(session_id,utterance_id,speaker,text,codes) or the project's JSONL"
    )


def _rows(p: Path) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(p.read_text(encoding="utf-8-sig"), newline=""))
    out = []
    for row in reader:
        if None in row or any(v is None for v in row.values()):
            raise InputError(f"{p}: line {reader.line_num}: wrong number of columns")
        out.append((reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items()}))
    return out


def _is_true(v: str) -> bool:
    return v.strip().lower() in ("true", "1", "yes")


def _annomi_labels(row: dict[str, str], full: bool, where: str) -> GoldLabels:
    if row["interlocutor"] == "client":
        talk = _ANNOMI_TALK.get(row.get("client_talk_type", ""))
        if talk is None:
            raise InputError(f"{where}: client_talk_type {row.get('client_talk_type')!r} is not change/sustain/neutral")
        return GoldLabels(client_talk=talk, observed=frozenset({TALK}))
    main = row.get("main_therapist_behaviour", "")
    if main not in MAIN_BEHAVIOURS:
        raise InputError(f"{where}: main_therapist_behaviour {main!r} is not one of {', '.join(MAIN_BEHAVIOURS)}")
    if not full:
        return GoldLabels(main_behaviour=main, observed=frozenset({MAIN}))
    codes: set[str] = set()
    if _is_true(row.get("question_exists", "")) and row.get("question_subtype") in ("open", "closed"):
        codes.add(f"{row['question_subtype']}_question")
    if _is_true(row.get("reflection_exists", "")) and row.get("reflection_subtype") in ("simple", "complex"):
        codes.add(f"{row['reflection_subtype']}_reflection")
    if _is_true(row.get("therapist_input_exists", "")) and row.get("therapist_input_subtype") in _ANNOMI_INPUT:
        codes.add(_ANNOMI_INPUT[row["therapist_input_subtype"]])
    return GoldLabels(
        codes=frozenset(codes or {OTHER}),
        main_behaviour=main,
        observed=ANNOMI_FULL_CODES | {MAIN},
    )


def _read_annomi(p: Path) -> list[LabeledSession]:
    rows = _rows(p)
    if not rows:
        raise InputError(f"{p}: no rows")
    full = "question_subtype" in rows[0][1]
    sessions = read_transcript(p, fmt="annomi")
    per_session: dict[str, dict[str, dict[str, GoldLabels]]] = {}
    for line, row in rows:
        ann = row.get("annotator_id") or "0"
        labels = _annomi_labels(row, full, f"{p}: line {line}")
        per_session.setdefault(row["transcript_id"], {}).setdefault(ann, {})[row["utterance_id"]] = labels
    out = []
    for s in sessions:
        anns = per_session[s.session_id]
        first = anns[min(anns, key=lambda a: (len(a), a))]
        meta = dict(s.metadata)
        out.append(LabeledSession(s, first, anns if len(anns) > 1 else {}, topic=meta.get("topic")))
    return out


def parse_codes(codes_s: str, speaker: str, where: str) -> GoldLabels:
    """Parse a ``codes`` cell (semicolon-separated) for a therapist or client utterance."""
    tax = load_taxonomy()
    codes = [c.strip() for c in codes_s.replace(",", ";").split(";") if c.strip()]
    if speaker == "therapist":
        bad = [c for c in codes if c not in tax.therapist_ids]
        if bad:
            raise InputError(f"{where}: unknown therapist code(s) {', '.join(bad)}; see models/taxonomy.yaml")
        cs = frozenset(codes or {OTHER})
        if OTHER in cs and len(cs) > 1:
            raise InputError(f"{where}: 'other' cannot be combined with other codes ({codes_s})")
        main = derive_main_behaviour(cs)
        observed = frozenset(tax.predictable_therapist_ids) | ({MAIN} if main else set())
        return GoldLabels(codes=cs, main_behaviour=main, observed=observed)
    talk = [c for c in codes if c in CLIENT_TALK_CODES]
    rest = [c for c in codes if c not in CLIENT_TALK_CODES and c != RISK_FLAG]
    if len(talk) != 1 or rest:
        raise InputError(
            f"{where}: a client utterance needs exactly one of {', '.join(CLIENT_TALK_CODES)} "
            f"(plus optionally {RISK_FLAG}), got {codes_s!r}"
        )
    return GoldLabels(client_talk=talk[0], risk_indicator=RISK_FLAG in codes, observed=frozenset({TALK, RISK_FLAG}))


def _read_codes_csv(p: Path) -> list[LabeledSession]:
    sessions = read_transcript(p, fmt="csv")
    by_key = {(u.session_id, u.utterance_id): u for s in sessions for u in s.utterances}
    labels: dict[str, dict[str, GoldLabels]] = {}
    for line, row in _rows(p):
        if "codes" not in row:
            raise InputError(f"{p}: line 1: no 'codes' column")
        u = by_key[(row["session_id"], row["utterance_id"])]
        labels.setdefault(u.session_id, {})[u.utterance_id] = parse_codes(row["codes"], u.speaker, f"{p}: line {line}")
    return [LabeledSession(s, labels[s.session_id]) for s in sessions]


def _read_jsonl(p: Path) -> list[LabeledSession]:
    """The project's JSONL (``tagger tag`` records) used as gold: codes, client_talk, risk_indicator."""
    sessions = read_transcript(p, fmt="jsonl")
    by_key = {(u.session_id, u.utterance_id): u for s in sessions for u in s.utterances}
    labels: dict[str, dict[str, GoldLabels]] = {}
    n = 0  # index of the record: the utterance_id the reader gives a record without one
    for lineno, line in enumerate(p.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        d = json.loads(line)
        sid, uid = str(d.get("session_id") or p.stem), str(d.get("utterance_id", n))
        n += 1
        where = f"{p}: line {lineno}"
        if by_key[(sid, uid)].speaker == "therapist":  # the role the reader resolved ("T", "Therapist" ...)
            g = parse_codes(";".join(d.get("codes") or []), "therapist", where)
            if d.get("main_behaviour"):
                g = GoldLabels(g.codes, d["main_behaviour"], None, None, g.observed | {MAIN})
        else:
            codes = [d.get("client_talk") or ""] + ([RISK_FLAG] if d.get("risk_indicator") else [])
            g = parse_codes(";".join(codes), "client", where)
        labels.setdefault(sid, {})[uid] = g
    return [LabeledSession(s, labels[s.session_id]) for s in sessions]
