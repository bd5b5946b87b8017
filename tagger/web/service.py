"""What a user can do with sessions; the JSON API and the pages both call these, so both enforce the same rules.

Access: a clinician reaches only their own sessions (anything else is :class:`NotFound`, as if it
did not exist); an admin can read, export, retry and delete any session, but only the owner edits
and signs a note (:class:`Forbidden` for an admin). A signed note is final (:class:`Conflict`).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tagger.errors import InputError
from tagger.note import NOTE_FORMATS, Note, Section, Statement, render
from tagger.note.types import CLINICIAN
from tagger.web import audit, jobs, storage
from tagger.web.config import WebSettings
from tagger.web.models import Job, NoteVersion, TherapySession, User, utcnow

EXPORT_TYPES = {"md": ("text/markdown; charset=utf-8", "md"), "pdf": ("application/pdf", "pdf"),
                "json": ("application/json", "json"), "html": ("text/html; charset=utf-8", "html")}
EDITABLE_HEADER = ("clinician", "session_date")
ADDED_GROUP = "Clinician's additions"


class NotFound(Exception):
    """No such session for this user (also when it belongs to someone else)."""


class Forbidden(Exception):
    """The user may see the session but not do this to it."""


class Conflict(Exception):
    """The note is signed, or changed since the user loaded it."""


@dataclass(frozen=True)
class NoteState:
    current: NoteVersion
    versions: tuple[NoteVersion, ...]

    @property
    def note(self) -> Note:
        return Note.from_dict(json.loads(self.current.body))

    @property
    def signed(self) -> bool:
        return self.current.signed_at is not None


def get_session(db: Session, user: User, session_id: str, *, owner_only: bool = False) -> TherapySession:
    rec = db.get(TherapySession, session_id) if len(session_id) == 32 else None
    if rec is None or (rec.owner_id != user.id and not user.is_admin):
        raise NotFound(session_id)
    if owner_only and rec.owner_id != user.id:
        raise Forbidden("only the clinician who uploaded a session can edit or sign its note")
    return rec


def list_sessions(db: Session, user: User, everyone: bool = False) -> list[tuple[TherapySession, Job | None]]:
    q = select(TherapySession).order_by(TherapySession.created_at.desc())
    if not (everyone and user.is_admin):
        q = q.where(TherapySession.owner_id == user.id)
    recs = list(db.scalars(q))
    latest: dict[str, Job] = {}
    if recs:
        ids = select(func.max(Job.id)).where(Job.session_id.in_([r.id for r in recs])).group_by(Job.session_id)
        latest = {j.session_id: j for j in db.scalars(select(Job).where(Job.id.in_(ids)))}
    return [(r, latest.get(r.id)) for r in recs]


def create_session(db: Session, settings: WebSettings, user: User, fh: BinaryIO, filename: str | None, *,
                   note_format: str = "soap", deidentify: bool = False, therapist: str = "") -> TherapySession:
    """Store and check an upload, then queue it. Raises :class:`InputError` for a bad file or option."""
    if note_format not in NOTE_FORMATS:
        raise InputError(f"note format {note_format!r}: choose one of {', '.join(NOTE_FORMATS)}")
    names = tuple(n.strip() for n in therapist.split(",") if n.strip())
    if any(len(n) > 100 for n in names) or len(names) > 4:
        raise InputError("therapist names: at most 4 names of up to 100 characters, separated by commas")
    sid = secrets.token_hex(16)
    folder = storage.session_dir(settings.uploads_dir, sid)
    title = storage.safe_title(filename)
    try:
        size = storage.save_stream(storage.read_chunks(fh), folder / "incoming", settings.max_upload_bytes)
        checked = storage.check_upload(folder / "incoming", title, names)
    except BaseException:
        storage.remove_tree(folder)
        raise
    rec = TherapySession(id=sid, owner_id=user.id, title=title, kind=checked.kind, upload_name=checked.stored_name,
                         upload_bytes=size, note_format=note_format, deidentify=deidentify,
                         therapist_names=",".join(names))
    db.add(rec)
    db.flush()
    jobs.enqueue(db, sid)
    audit.record(db, user, "upload", sid, checked.summary)
    return rec


def note_state(db: Session, rec: TherapySession) -> NoteState | None:
    versions = tuple(db.scalars(select(NoteVersion).where(NoteVersion.session_id == rec.id)
                                .order_by(NoteVersion.version)))
    return NoteState(versions[-1], versions) if versions else None


def _require_note(db: Session, rec: TherapySession) -> NoteState:
    state = note_state(db, rec)
    if state is None:
        raise Conflict("the session has no note yet: wait until processing is done")
    return state


def edit_note(db: Session, user: User, rec: TherapySession, base_version: int, *,
              statements: dict[str, str] | None = None, header: dict[str, str] | None = None,
              additions: dict[str, str] | None = None) -> NoteVersion:
    """Save a new note version with edited statement texts (key ``<section>.<index>``; empty text removes it),
    header fields (clinician, session date) and statements added to sections."""
    state = _require_note(db, rec)
    if state.signed:
        raise Conflict(f"the note was signed (version {state.current.version}); a signed note cannot be changed")
    if base_version != state.current.version:
        raise Conflict(f"the note changed since you opened it (now version {state.current.version}); reload it, "
                       "then edit again")
    note = state.note
    sections = {s.key: s for s in ([note.alerts] if note.alerts else []) + list(note.sections) + [note.appendix]}
    stmts = {k: list(s.statements) for k, s in sections.items()}
    for key, text in (statements or {}).items():
        sec, _, idx = key.partition(".")
        if sec not in stmts or not idx.isdigit() or int(idx) >= len(sections[sec].statements):
            raise InputError(f"no statement {key!r} in this note; keys are <section>.<index>, e.g. "
                             f"{next(iter(sections))}.0")
        stmts[sec][int(idx)] = dataclasses.replace(sections[sec].statements[int(idx)], text=text.strip())
    for sec, text in (additions or {}).items():
        if sec not in stmts:
            raise InputError(f"no section {sec!r} in this note; sections: {', '.join(sections)}")
        if text.strip():
            stmts[sec].append(Statement(text=text.strip(), kind="info", group=ADDED_GROUP))
    new_header = note.header
    for field, value in (header or {}).items():
        if field not in EDITABLE_HEADER:
            raise InputError(f"header field {field!r} cannot be edited; editable: {', '.join(EDITABLE_HEADER)}")
        new_header = dataclasses.replace(new_header, **{field: value.strip()[:200] or CLINICIAN})

    def rebuilt(s: Section) -> Section:
        return dataclasses.replace(s, statements=tuple(st for st in stmts[s.key] if st.text))

    note = dataclasses.replace(
        note, header=new_header, alerts=rebuilt(note.alerts) if note.alerts else None,
        sections=tuple(rebuilt(s) for s in note.sections), appendix=rebuilt(note.appendix))
    row = NoteVersion(session_id=rec.id, version=state.current.version + 1, body=json.dumps(note.to_dict()),
                      author_id=user.id)
    db.add(row)
    db.flush()
    audit.record(db, user, "edit", rec.id, f"note version {row.version}")
    return row


def sign_note(db: Session, user: User, rec: TherapySession, version: int) -> NoteVersion:
    """Sign the current version (it must be the one the clinician read); it cannot change afterwards."""
    state = _require_note(db, rec)
    if state.signed:
        raise Conflict(f"the note is already signed (version {state.current.version})")
    if version != state.current.version:
        raise Conflict(f"you are signing version {version}, but the note is now version {state.current.version}; "
                       "reload it and review the changes first")
    state.current.signed_by, state.current.signed_at = user.id, utcnow()
    db.flush()
    audit.record(db, user, "sign", rec.id, f"note version {version}")
    return state.current


def note_for_export(db: Session, state: NoteState) -> Note:
    """The current note; once signed, its header names the signer (the stored version is unchanged)."""
    note = state.note
    if not state.signed:
        return note
    signer = db.get(User, state.current.signed_by)
    who = signer.name if signer else "unknown user"
    when = state.current.signed_at.strftime("%Y-%m-%d %H:%M UTC") if state.current.signed_at else ""
    header = dataclasses.replace(
        note.header, clinician=note.header.clinician if note.header.clinician != CLINICIAN else who,
        signed_by=who, signed_at=when,
        disclaimer=f"Note version {state.current.version}. Drafted from automatic utterance labels and reviewed by "
                   "the signing clinician.")
    return dataclasses.replace(note, header=header)


def export(db: Session, user: User, rec: TherapySession, fmt: str) -> tuple[bytes, str, str]:
    """The note as ``md``, ``pdf``, ``json`` or ``html``: (content, media type, download file name)."""
    if fmt not in EXPORT_TYPES:
        raise InputError(f"export format {fmt!r}: choose one of {', '.join(EXPORT_TYPES)}")
    state = _require_note(db, rec)
    data = render(note_for_export(db, state), fmt, include_transcript=True)
    media, ext = EXPORT_TYPES[fmt]
    stem = Path(rec.title).stem.replace('"', "")[:80] or "session"
    audit.record(db, user, "export", rec.id, f"{fmt}, note version {state.current.version}")
    return (data if isinstance(data, bytes) else data.encode()), media, f"{stem}.note.{ext}"


def audio_path(settings: WebSettings, rec: TherapySession) -> Path | None:
    if rec.kind != "audio" or rec.upload_name is None:
        return None
    path = storage.session_dir(settings.uploads_dir, rec.id) / rec.upload_name
    return path if path.is_file() else None


def audio_for_playback(db: Session, settings: WebSettings, user: User, rec: TherapySession,
                       range_header: str | None) -> Path | None:
    """The recording to stream (None: the session has none). A playback is audited once, on its first
    request (no Range, or one from byte 0), not on every seek or chunk the player asks for."""
    path = audio_path(settings, rec)
    if path is not None and (range_header or "bytes=0-").startswith("bytes=0-"):
        audit.record(db, user, "view", rec.id, "audio")
    return path


def delete_session(db: Session, settings: WebSettings, user: User, rec: TherapySession) -> None:
    """Delete the session, its files (audio included), jobs and note versions; the audit log keeps a row."""
    folder = storage.session_dir(settings.uploads_dir, rec.id)
    audit.record(db, user, "delete", rec.id, f"{rec.kind} session")
    db.delete(rec)
    db.flush()
    storage.remove_tree(folder)


def retry(db: Session, user: User, rec: TherapySession) -> Job:
    job = jobs.retry(db, rec.id)
    if job is None:
        raise Conflict("only a failed job can be retried")
    audit.record(db, user, "retry", rec.id)
    return job


def tagged_transcript(settings: WebSettings, rec: TherapySession) -> list:
    return storage.read_tagged(storage.session_dir(settings.uploads_dir, rec.id))
