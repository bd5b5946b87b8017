"""The JSON API (``/api``; OpenAPI docs at ``/docs``): the same actions as the pages, for scripts."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from tagger.web import audit, jobs, service
from tagger.web.deps import ApiAdmin, ApiUser, Db, Settings
from tagger.web.models import ApiToken, Job, TherapySession, User

router = APIRouter(prefix="/api", tags=["api"])


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


class SessionOut(BaseModel):
    id: str
    title: str
    kind: str
    note_format: str
    deidentify: bool
    created_at: dt.datetime
    processed_at: dt.datetime | None
    status: str = Field(description="queued, running, done or failed")
    stage: str
    progress: float = Field(description="0..1")
    error: str | None = Field(description="why the job failed (retry with POST .../retry)")
    attempts: int
    utterances: int
    risk_flags: int
    warnings: list[str]
    has_audio: bool
    note_version: int | None
    signed: bool
    owner: str


class NoteVersionOut(BaseModel):
    version: int
    created_at: dt.datetime
    author: str | None = Field(description="None: drafted by tagger")
    signed_by: str | None
    signed_at: dt.datetime | None


class NoteOut(BaseModel):
    version: int
    signed: bool
    note: dict[str, Any] = Field(description="the note (tagger.note.Note.to_dict()); statements are addressed as "
                                             "'<section key>.<index>' when editing")
    versions: list[NoteVersionOut]


class NoteEdit(BaseModel):
    base_version: int = Field(description="the version being edited (409 if the note changed since)")
    statements: dict[str, str] = Field(default_factory=dict, description="'<section>.<index>' -> new text; '' removes")
    header: dict[str, str] = Field(default_factory=dict, description="clinician, session_date")
    additions: dict[str, str] = Field(default_factory=dict, description="section key -> a statement to add")


class SignRequest(BaseModel):
    version: int = Field(description="the version the clinician reviewed")


class TokenRequest(BaseModel):
    label: str = Field(default="", max_length=100)


class TokenOut(BaseModel):
    id: int
    label: str
    token: str = Field(description="shown once; only its hash is stored")


class AuditOut(BaseModel):
    at: dt.datetime
    username: str
    action: str
    session_id: str | None
    detail: str


def session_out(db: Session, settings_, rec: TherapySession, job: Job | None) -> SessionOut:
    state = service.note_state(db, rec)
    owner = db.get(User, rec.owner_id)
    return SessionOut(
        id=rec.id, title=rec.title, kind=rec.kind, note_format=rec.note_format, deidentify=rec.deidentify,
        created_at=rec.created_at, processed_at=rec.processed_at, status=job.status if job else "done",
        stage=job.stage if job else "", progress=job.progress if job else 1.0, error=job.error if job else None,
        attempts=job.attempts if job else 0, utterances=rec.utterances, risk_flags=rec.risk_flags,
        warnings=[w for w in rec.warnings.splitlines() if w],
        has_audio=service.audio_path(settings_, rec) is not None,
        note_version=state.current.version if state else None, signed=bool(state and state.signed),
        owner=owner.username if owner else "")


def _name(db: Session, uid: int | None) -> str | None:
    u = db.get(User, uid) if uid is not None else None
    return u.username if u else None


def note_out(db: Session, state: service.NoteState) -> NoteOut:
    return NoteOut(version=state.current.version, signed=state.signed, note=json.loads(state.current.body),
                   versions=[NoteVersionOut(version=v.version, created_at=v.created_at, author=_name(db, v.author_id),
                                            signed_by=_name(db, v.signed_by), signed_at=v.signed_at)
                             for v in state.versions])


@router.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserOut:
    return UserOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role)


@router.get("/sessions", response_model=list[SessionOut])
def list_sessions(user: ApiUser, db: Db, s: Settings, all: bool = False) -> list[SessionOut]:
    """Your sessions with their job status and progress (``all=true``: everyone's, admins only)."""
    if all and not user.is_admin:
        raise HTTPException(403, "all=true is for admins")
    return [session_out(db, s, rec, job) for rec, job in service.list_sessions(db, user, everyone=all)]


@router.post("/sessions", response_model=SessionOut, status_code=201)
def upload(*, file: Annotated[UploadFile, File(description="a recording or a transcript")],
           note_format: Annotated[str, Form()] = "soap", deidentify: Annotated[bool, Form()] = False,
           therapist: Annotated[str, Form(description="transcripts with named speakers: the therapist's name(s), "
                                                      "comma separated")] = "",
           user: ApiUser, db: Db, s: Settings) -> SessionOut:
    """Upload a session; it is checked (transcript readers or an audio decode probe) and queued."""
    rec = service.create_session(db, s, user, file.file, file.filename, note_format=note_format,
                                 deidentify=deidentify, therapist=therapist)
    db.commit()
    return session_out(db, s, rec, jobs.latest(db, rec.id))


@router.get("/sessions/{session_id}", response_model=SessionOut)
def get_session(session_id: str, user: ApiUser, db: Db,
                s: Settings) -> SessionOut:
    rec = service.get_session(db, user, session_id)
    return session_out(db, s, rec, jobs.latest(db, rec.id))


@router.get("/sessions/{session_id}/transcript")
def transcript(session_id: str, user: ApiUser, db: Db,
               s: Settings) -> list[dict[str, Any]]:
    """The tagged transcript: one ``tagger tag`` record per utterance."""
    rec = service.get_session(db, user, session_id)
    audit.record(db, user, "view", rec.id, "transcript (api)")
    db.commit()
    return [t.to_record() for t in service.tagged_transcript(s, rec)]


@router.get("/sessions/{session_id}/note", response_model=NoteOut)
def get_note(session_id: str, user: ApiUser, db: Db) -> NoteOut:
    rec = service.get_session(db, user, session_id)
    state = service.note_state(db, rec)
    if state is None:
        raise service.Conflict("the session has no note yet: wait until processing is done")
    audit.record(db, user, "view", rec.id, f"note version {state.current.version} (api)")
    db.commit()
    return note_out(db, state)


@router.put("/sessions/{session_id}/note", response_model=NoteOut)
def edit_note(session_id: str, edit: NoteEdit, user: ApiUser,
              db: Db) -> NoteOut:
    """Save a new version of the note (409 once it is signed)."""
    rec = service.get_session(db, user, session_id, owner_only=True)
    service.edit_note(db, user, rec, edit.base_version, statements=edit.statements, header=edit.header,
                      additions=edit.additions)
    db.commit()
    return note_out(db, service.note_state(db, rec))  # type: ignore[arg-type]


@router.post("/sessions/{session_id}/note/sign", response_model=NoteOut)
def sign_note(session_id: str, req: SignRequest, user: ApiUser,
              db: Db) -> NoteOut:
    """Sign the current version; it becomes immutable."""
    rec = service.get_session(db, user, session_id, owner_only=True)
    service.sign_note(db, user, rec, req.version)
    db.commit()
    return note_out(db, service.note_state(db, rec))  # type: ignore[arg-type]


@router.get("/sessions/{session_id}/export/{fmt}")
def export(session_id: str, fmt: str, user: ApiUser, db: Db) -> Response:
    """The note as md, pdf, json or html (signed notes name the signer)."""
    rec = service.get_session(db, user, session_id)
    data, media, filename = service.export(db, user, rec, fmt)
    db.commit()
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/sessions/{session_id}/audio")
def audio(session_id: str, request: Request, user: ApiUser, db: Db,
          s: Settings) -> FileResponse:
    """The uploaded recording (supports Range requests for seeking)."""
    rec = service.get_session(db, user, session_id)
    path = service.audio_for_playback(db, s, user, rec, request.headers.get("range"))
    if path is None:
        raise HTTPException(404, "this session has no audio (a transcript, or deleted by the retention setting)")
    db.commit()
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.post("/sessions/{session_id}/retry", response_model=SessionOut)
def retry(session_id: str, user: ApiUser, db: Db,
          s: Settings) -> SessionOut:
    """Queue a failed job again."""
    rec = service.get_session(db, user, session_id)
    job = service.retry(db, user, rec)
    db.commit()
    return session_out(db, s, rec, job)


@router.delete("/sessions/{session_id}", status_code=204)
def delete(session_id: str, user: ApiUser, db: Db,
           s: Settings) -> Response:
    """Delete the session, its audio and its note."""
    rec = service.get_session(db, user, session_id)
    service.delete_session(db, s, user, rec)
    db.commit()
    return Response(status_code=204)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def create_token(req: TokenRequest, user: ApiUser, db: Db) -> TokenOut:
    from tagger.web.auth import new_token

    row, token = new_token(db, user, req.label)
    audit.record(db, user, "token_created", None, f"token {row.id}")
    db.commit()
    return TokenOut(id=row.id, label=row.label, token=token)


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, user: ApiUser, db: Db) -> Response:
    row = db.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and not user.is_admin):
        raise HTTPException(404, "no such token")
    db.delete(row)
    audit.record(db, user, "token_revoked", None, f"token {token_id}")
    db.commit()
    return Response(status_code=204)


@router.get("/audit", response_model=list[AuditOut])
def audit_log(_admin: ApiAdmin, db: Db, session_id: str | None = None, limit: int = 200) -> list[AuditOut]:
    """The audit log, newest first (admins only)."""
    return [AuditOut(at=e.at, username=e.username, action=e.action, session_id=e.session_id, detail=e.detail)
            for e in audit.events(db, session_id, min(max(limit, 1), 5000))]


@router.get("/users", response_model=list[UserOut])
def users(_admin: ApiAdmin, db: Db) -> list[UserOut]:
    """All accounts (admins only; accounts are managed with `tagger users`)."""
    return [UserOut(id=u.id, username=u.username, display_name=u.display_name, role=u.role)
            for u in db.scalars(select(User).order_by(User.id))]
