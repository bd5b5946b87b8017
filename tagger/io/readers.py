"""Transcript readers, auto-detected by extension and content.

Every reader returns a list of :class:`~tagger.types.Session` (a CSV may hold several
sessions). Malformed input raises :class:`~tagger.errors.InputError` naming the file, the
line or row, and what was expected. Speaker roles are never guessed: an unknown speaker
label is an error that says how to map it (``therapist=`` / ``--therapist NAME``).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from tagger.errors import InputError
from tagger.types import Session, Utterance

FORMATS = ("csv", "annomi", "text", "json", "jsonl", "vtt", "srt")

MAX_TRANSCRIPT_BYTES = 200 * 1024 * 1024

_THERAPIST_ALIASES = {"therapist", "t", "counselor", "counsellor", "clinician", "interviewer", "provider", "th"}
_CLIENT_ALIASES = {"client", "c", "patient", "pt", "cl"}


@dataclass(frozen=True)
class SpeakerMap:
    """Maps raw speaker labels to roles.

    Generic labels (``Therapist``, ``T``, ``Client``, ``C``, ``Counselor``, ``Patient`` ...)
    map by themselves. Named speakers need ``therapist``: names listed there are therapists,
    every other named speaker is a client (couples and family sessions have several).
    """

    therapist: tuple[str, ...] = ()

    def role(self, label: str) -> str | None:
        key = label.strip().lower()
        if key in _THERAPIST_ALIASES:
            return "therapist"
        if key in _CLIENT_ALIASES:
            return "client"
        if self.therapist:
            return "therapist" if key in {t.strip().lower() for t in self.therapist} else "client"
        return None


def detect_format(path: Path, head: str) -> str:
    """Pick a reader from the extension, then the content."""
    ext = path.suffix.lower().lstrip(".")
    if ext in ("vtt", "srt", "json", "jsonl"):
        return ext
    if ext in ("txt", "text", "md"):
        return "text"
    if ext in ("csv", "tsv"):
        first = head.splitlines()[0].lower() if head else ""
        return "annomi" if "utterance_text" in first and "interlocutor" in first else "csv"
    stripped = head.lstrip()
    if stripped.startswith("WEBVTT"):
        return "vtt"
    if stripped.startswith(("{", "[")):
        return "json"
    raise InputError(
        f"{path}: cannot tell the transcript format from the extension {path.suffix!r}; "
        f"use one of .csv, .txt, .json, .jsonl, .vtt, .srt or pass fmt= (--format) as one of {', '.join(FORMATS)}"
    )


def read_transcript(
    path: str | Path,
    *,
    fmt: str | None = None,
    therapist: Iterable[str] = (),
) -> list[Session]:
    """Read a transcript file into sessions (see module docs for the formats)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a directory; pass a transcript file (use `tagger batch` for folders)")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{p}: the file is empty")
    if size > MAX_TRANSCRIPT_BYTES:
        raise InputError(
            f"{p}: {size / 2**20:.0f} MiB is larger than the {MAX_TRANSCRIPT_BYTES // 2**20} MiB limit "
            "for one transcript; split it into sessions"
        )
    raw = p.read_bytes()
    if b"\x00" in raw[:4096]:
        raise InputError(f"{p}: looks like a binary file, not a text transcript (audio goes to `tagger run`)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(f"{p}: line {line}: not UTF-8 text (byte {exc.start}); save the transcript as UTF-8") from None
    kind = fmt or detect_format(p, text[:4096])
    if kind not in _READERS:
        raise InputError(f"unknown transcript format {kind!r}; choose one of {', '.join(FORMATS)}")
    smap = SpeakerMap(tuple(therapist))
    sessions = _READERS[kind](text, p, smap)
    sessions = [s for s in sessions if s.utterances]
    if not sessions:
        raise InputError(f"{p}: no utterances found in this {kind} transcript")
    return sessions


# --------------------------------------------------------------------------- helpers


def _role_or_error(smap: SpeakerMap, label: str, where: str) -> str:
    role = smap.role(label)
    if role is None:
        raise InputError(
            f"{where}: unknown speaker {label!r}; expected therapist/client (or T/C). "
            f"For named speakers say which are therapists, e.g. --therapist {label!r}"
        )
    return role


def _time(value: str, where: str) -> float | None:
    v = value.strip()
    if not v:
        return None
    try:
        if ":" in v:
            parts = [float(x) for x in v.replace(",", ".").split(":")]
            secs = 0.0
            for part in parts:
                secs = secs * 60 + part
        else:
            secs = float(v)
    except ValueError:
        secs = math.nan
    if not math.isfinite(secs) or secs < 0:  # nan/inf would pass every later check and break the JSON output
        raise InputError(f"{where}: cannot read time {value!r}; expected seconds or HH:MM:SS(.mmm)")
    return secs


def _utterance(where: str, *args: object, **kwargs: object) -> Utterance:
    """An :class:`Utterance`, with its validation errors (e.g. end before start) as InputError."""
    try:
        return Utterance(*args, **kwargs)  # type: ignore[arg-type]
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def _csv_rows(
    text: str, path: Path, required: tuple[str, ...]
) -> tuple[list[str], Iterable[tuple[int, dict[str, str]]]]:
    dialect = "excel-tab" if path.suffix.lower() == ".tsv" else "excel"
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    header = [h.strip() for h in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(
            f"{path}: line 1: CSV header lacks column(s) {', '.join(missing)}; "
            f"expected {', '.join(required)} (found: {', '.join(header) or 'nothing'})"
        )

    def rows() -> Iterable[tuple[int, dict[str, str]]]:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                raise InputError(f"{path}: line {line}: expected {len(header)} columns ({', '.join(header)})")
            yield line, row

    return header, rows()


def _group(utts: list[Utterance], source: str, meta: dict[str, dict[str, str]] | None = None) -> list[Session]:
    order: dict[str, list[Utterance]] = {}
    for u in utts:
        order.setdefault(u.session_id, []).append(u)
    return [
        Session(sid, tuple(us), source=source, metadata=tuple(sorted((meta or {}).get(sid, {}).items())))
        for sid, us in order.items()
    ]


def _check_unique(utts: list[Utterance], wheres: list[str]) -> None:
    """``wheres[i]`` locates ``utts[i]`` in the file (``path: line N``) for the error message."""
    seen: dict[tuple[str, str], str] = {}
    for u, where in zip(utts, wheres, strict=True):
        key = (u.session_id, u.utterance_id)
        if key in seen:
            raise InputError(
                f"{where}: duplicate utterance_id {u.utterance_id!r} in session {u.session_id!r} "
                f"(first at {seen[key].rsplit(': ', 1)[-1]})"
            )
        seen[key] = where


# --------------------------------------------------------------------------- readers


def read_csv_text(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    header, rows = _csv_rows(text, path, ("session_id", "utterance_id", "speaker", "text"))
    utts: list[Utterance] = []
    wheres: list[str] = []
    for line, row in rows:
        where = f"{path}: line {line}"
        if not row["text"].strip():
            raise InputError(f"{where}: empty text")
        sid, uid = row["session_id"].strip(), row["utterance_id"].strip()
        if not sid or not uid:
            raise InputError(f"{where}: session_id and utterance_id must not be empty")
        label = row["speaker"].strip()
        wheres.append(where)
        utts.append(
            _utterance(
                where,
                session_id=sid,
                utterance_id=uid,
                speaker=_role_or_error(smap, label, where),  # type: ignore[arg-type]
                text=row["text"].strip(),
                speaker_label=label,
                start=_time(row.get("start", "") or "", where),
                end=_time(row.get("end", "") or "", where),
            )
        )
    _check_unique(utts, wheres)
    return _group(utts, str(path))


def read_annomi_text(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    _, rows = _csv_rows(text, path, ("transcript_id", "utterance_id", "interlocutor", "utterance_text"))
    utts: list[Utterance] = []
    meta: dict[str, dict[str, str]] = {}
    seen: set[tuple[str, str]] = set()
    for line, row in rows:
        where = f"{path}: line {line}"
        sid, uid = row["transcript_id"].strip(), row["utterance_id"].strip()
        if (sid, uid) in seen:  # AnnoMI-full repeats an utterance once per annotator
            continue
        seen.add((sid, uid))
        label = row["interlocutor"].strip()
        meta.setdefault(sid, {k: row[k].strip() for k in ("topic", "mi_quality", "video_title") if row.get(k)})
        utts.append(
            _utterance(
                where,
                session_id=sid,
                utterance_id=uid,
                speaker=_role_or_error(smap, label, where),
                text=row["utterance_text"].strip() or "(inaudible)",
                speaker_label=label,
                start=_time(row.get("timestamp", "") or "", where),
            )
        )
    return _group(utts, str(path), meta)


_PREFIX = re.compile(r"^\s*(?:\[(?P<ts>[\d:.,]+)\]\s*)?(?P<who>[A-Za-z][\w .'-]{0,40}?)\s*:\s*(?P<text>.*)$")


def _is_speaker(who: str) -> bool:
    """A known role alias, or a capitalised name of at most three words ('Dr Lee', 'Anna')."""
    if who.strip().lower() in _THERAPIST_ALIASES | _CLIENT_ALIASES:
        return True
    words = who.split()
    return 0 < len(words) <= 3 and all(w[0].isupper() for w in words)


def read_plain_text(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    """``Therapist: ...`` / ``Client: ...`` lines (also ``T:``/``C:`` or names with --therapist).

    A line without a speaker prefix continues the previous turn. An optional ``[HH:MM:SS]``
    before the speaker gives the start time.
    """
    sid = path.stem
    turns: list[tuple[int, str, float | None, list[str]]] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = _PREFIX.match(line)
        if m and _is_speaker(m.group("who")):
            who = m.group("who").strip()
            ts = _time(m.group("ts"), f"{path}: line {lineno}") if m.group("ts") else None
            turns.append((lineno, who, ts, [m.group("text").strip()]))
        elif turns:
            turns[-1][3].append(line.strip())
        else:
            raise InputError(
                f"{path}: line {lineno}: expected a speaker prefix like 'Therapist:' or 'Client:' "
                f"(also 'T:'/'C:'), got {line.strip()[:60]!r}"
            )
    utts = []
    for i, (lineno, who, ts, parts) in enumerate(turns):
        body = " ".join(p for p in parts if p)
        if not body:
            raise InputError(f"{path}: line {lineno}: the turn of {who!r} has no text")
        role = _role_or_error(smap, who, f"{path}: line {lineno}")
        utts.append(_utterance(f"{path}: line {lineno}", sid, str(i), role, body, speaker_label=who, start=ts))
    return _group(utts, str(path))


def read_json_text(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    """The project's own session JSON: one session object or a list of them."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
    items = data if isinstance(data, list) else [data]
    sessions = []
    for k, item in enumerate(items):
        where = f"{path}: session #{k}"
        if not isinstance(item, dict) or "utterances" not in item:
            raise InputError(f"{where}: expected an object with 'session_id' and 'utterances'")
        item = {**item, "session_id": item.get("session_id") or path.stem, "source": item.get("source") or str(path)}
        fixed = []
        for j, u in enumerate(item["utterances"]):
            if not isinstance(u, dict) or not {"speaker", "text"} <= u.keys():
                raise InputError(f"{where}: utterance #{j}: needs 'speaker' and 'text'")
            u = {"utterance_id": str(j), **u}
            u["speaker_label"] = u.get("speaker_label") or u["speaker"]
            u["speaker"] = _role_or_error(smap, str(u["speaker"]), f"{where}: utterance #{j}")
            fixed.append(u)
        try:
            session = Session.from_dict({**item, "utterances": fixed})
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{where}: {exc}") from None
        _check_unique(list(session.utterances), [f"{where}: utterance #{j}" for j in range(len(fixed))])
        sessions.append(session)
    return sessions


def read_jsonl_text(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    """One utterance object per line (e.g. ``tagger tag`` output): session_id, utterance_id, speaker, text."""
    utts: list[Utterance] = []
    wheres: list[str] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {lineno}"
        try:
            d = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: invalid JSON ({exc.msg})") from None
        if not isinstance(d, dict) or not {"speaker", "text"} <= d.keys():
            raise InputError(f"{where}: expected an object with at least 'speaker' and 'text'")
        label = str(d.get("speaker_label") or d["speaker"])
        role = smap.role(str(d["speaker"])) or _role_or_error(smap, label, where)
        wheres.append(where)
        utts.append(
            _utterance(
                where,
                session_id=str(d.get("session_id") or path.stem),
                utterance_id=str(d.get("utterance_id", len(utts))),
                speaker=role,  # type: ignore[arg-type]
                text=str(d["text"]),
                speaker_label=label,
                start=_time(str(d["start"]), where) if d.get("start") is not None else None,
                end=_time(str(d["end"]), where) if d.get("end") is not None else None,
            )
        )
    _check_unique(utts, wheres)
    return _group(utts, str(path))


_CUE_TIME = re.compile(r"^\s*(?P<a>[\d:.,]+)\s*-->\s*(?P<b>[\d:.,]+)")
_VOICE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<who>[^>]+)>(?P<text>.*?)(?:</v>|$)")
_TAGS = re.compile(r"</?[^>]+>")


def _read_cues(text: str, path: Path, smap: SpeakerMap) -> list[Session]:
    """WebVTT or SRT: speaker from ``<v Name>`` voice tags or a ``Name:`` prefix in the cue text."""
    utts: list[Utterance] = []
    for start_line, lines in _blocks(text):
        idx = next((i for i, ln in enumerate(lines) if _CUE_TIME.match(ln)), None)
        if idx is None:
            continue  # header, NOTE, STYLE or cue number only
        where = f"{path}: line {start_line + idx}"
        m = _CUE_TIME.match(lines[idx])
        assert m is not None
        start, end = _time(m.group("a"), where), _time(m.group("b"), where)
        body = " ".join(ln.strip() for ln in lines[idx + 1 :] if ln.strip())
        v = _VOICE.search(body)
        if v:
            who, said = v.group("who").strip(), _TAGS.sub("", body).strip()
        else:
            p = _PREFIX.match(_TAGS.sub("", body))
            if not p:
                raise InputError(f"{where}: cue has no speaker; use a <v Speaker> tag or a 'Speaker:' prefix")
            who, said = p.group("who").strip(), p.group("text").strip()
        if not said:
            continue
        role = _role_or_error(smap, who, where)
        utts.append(_utterance(where, path.stem, str(len(utts)), role, said, speaker_label=who, start=start, end=end))
    return _group(utts, str(path))


def _blocks(text: str) -> Iterable[tuple[int, list[str]]]:
    """Blank-line separated blocks with the 1-based line number of their first line."""
    block: list[str] = []
    first = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            if not block:
                first = lineno
            block.append(line)
        elif block:
            yield first, block
            block = []
    if block:
        yield first, block


_READERS: dict[str, Callable[[str, Path, SpeakerMap], list[Session]]] = {
    "csv": read_csv_text,
    "annomi": read_annomi_text,
    "text": read_plain_text,
    "json": read_json_text,
    "jsonl": read_jsonl_text,
    "vtt": _read_cues,
    "srt": _read_cues,
}
