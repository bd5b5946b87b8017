"""Server-rendered pages (Jinja2 templates, plain JS/CSS): sign in, upload, sessions, session view.

Every form POST carries the CSRF token; the actions are the ones of :mod:`tagger.web.service`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from tagger.note import NOTE_FORMATS, Section, Statement
from tagger.web import audit, auth, csrf, jobs, present, service
from tagger.web.deps import Db, PageUser, Settings, session_version
from tagger.web.models import User
from tagger.web.throttle import LoginThrottle

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
router = APIRouter(include_in_schema=False)


def grouped(section: Section) -> list[tuple[str, list[tuple[int, Statement]]]]:
    """Statements by group (first-seen order) with their index in the section, which edits address."""
    out: dict[str, list[tuple[int, Statement]]] = {}
    for i, st in enumerate(section.statements):
        out.setdefault(st.group, []).append((i, st))
    return list(out.items())


TEMPLATES.env.globals["grouped"] = grouped


def render(request: Request, name: str, status: int = 200, **context: object) -> HTMLResponse:
    context.setdefault("user", None)
    flash = request.session.pop("flash", None)
    return TEMPLATES.TemplateResponse(request, name, {"csrf": csrf.token(request), "flash": flash, **context},
                                      status_code=status)


def check_csrf(request: Request, submitted: str) -> None:
    if not csrf.valid(request, submitted):
        raise HTTPException(403, "the form expired or did not come from this site (CSRF check); reload the page and "
                                 "try again")


def redirect(url: str, flash: str | None = None, request: Request | None = None) -> RedirectResponse:
    if flash and request is not None:
        request.session["flash"] = flash
    return RedirectResponse(url, status_code=303)


def _local(url: str | None) -> str:
    return url if url and url.startswith("/") and not url.startswith("//") and "\\" not in url else "/sessions"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/sessions", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str = "/sessions") -> HTMLResponse:
    return render(request, "login.html", next=_local(next))


@router.post("/login")
def login(*, request: Request, db: Db, username: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "/sessions", csrf_token: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf_token)
    throttle: LoginThrottle = request.app.state.login_throttle
    keys = (f"user:{username.strip().lower()}", f"ip:{request.client.host if request.client else '-'}")
    verdict = throttle.check(*keys)
    if not verdict.allowed:
        audit.record(db, auth.find_user(db, username.strip()), "login_throttled", None, keys[1])
        db.commit()
        minutes = -(-verdict.retry_after_s // 60)
        response = render(request, "login.html", status=429, next=_local(next),
                          error=f"too many failed sign-ins; try again in {minutes} minute{'s' * (minutes != 1)}")
        response.headers["Retry-After"] = str(verdict.retry_after_s)
        return response
    user = auth.authenticate(db, username.strip(), password)
    if user is None:
        throttle.failed(*keys)
        known = auth.find_user(db, username.strip())
        audit.record(db, known, "login_failed", None, "" if known else "unknown user name")
        db.commit()
        return render(request, "login.html", status=401, next=_local(next), error="wrong user name or password")
    throttle.succeeded(keys[0])
    request.session.clear()  # a new session at sign-in (no fixation), with a fresh CSRF token
    request.session.update(uid=user.id, ver=session_version(user))
    audit.record(db, user, "login")
    db.commit()
    return redirect(_local(next))


@router.post("/logout")
def logout(*, request: Request, csrf_token: Annotated[str, Form()] = "", user: PageUser,
           db: Db) -> Response:
    check_csrf(request, csrf_token)
    audit.record(db, user, "logout")
    db.commit()
    request.session.clear()
    return redirect("/login")


@router.get("/sessions")
def sessions_page(request: Request, user: PageUser, db: Db) -> HTMLResponse:
    rows = service.list_sessions(db, user)
    return render(request, "sessions.html", user=user, rows=rows)


@router.get("/upload")
def upload_form(request: Request, user: PageUser, s: Settings) -> HTMLResponse:
    return render(request, "upload.html", user=user, formats=NOTE_FORMATS, max_mb=s.max_upload_mb)


@router.post("/upload")
def upload(*, request: Request, file: Annotated[UploadFile, File()], note_format: Annotated[str, Form()] = "soap",
           deidentify: Annotated[bool, Form()] = False, therapist: Annotated[str, Form()] = "",
           csrf_token: Annotated[str, Form()] = "",
           user: PageUser, db: Db, s: Settings) -> Response:
    """The upload form without JavaScript (the page's script posts to the API to show upload progress)."""
    check_csrf(request, csrf_token)
    rec = service.create_session(db, s, user, file.file, file.filename, note_format=note_format,
                                 deidentify=deidentify, therapist=therapist)
    db.commit()
    return redirect(f"/sessions/{rec.id}", f"Uploaded {rec.title}; it is queued.", request)


@router.get("/sessions/{session_id}")
def session_page(request: Request, session_id: str, user: PageUser, db: Db,
                 s: Settings) -> HTMLResponse:
    rec = service.get_session(db, user, session_id)
    job = jobs.latest(db, rec.id)
    state = service.note_state(db, rec)
    tagged = service.tagged_transcript(s, rec) if state else []
    lines = present.lines(tagged)
    note = service.note_for_export(db, state) if state else None
    signer = db.get(User, state.current.signed_by) if state and state.signed else None
    audit.record(db, user, "view", rec.id, f"session page, note version {state.current.version}" if state else
                 "session page")
    db.commit()
    return render(request, "session.html", user=user, rec=rec, job=job, state=state, note=note, signer=signer,
                  lines=lines, families=present.filter_families(lines), timeline=present.timeline(tagged),
                  timeline_width=present.TIMELINE_WIDTH, row_height=present.ROW_HEIGHT,
                  has_audio=service.audio_path(s, rec) is not None, can_edit=rec.owner_id == user.id,
                  warnings=[w for w in rec.warnings.splitlines() if w])


@router.post("/sessions/{session_id}/note")
async def edit_note(request: Request, session_id: str, user: PageUser,
                    db: Db) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token", "")))
    rec = service.get_session(db, user, session_id, owner_only=True)
    state = service.note_state(db, rec)
    if state is None:
        raise service.Conflict("the session has no note yet")
    note = state.note
    original = {f"{sec.key}.{i}": st.text for sec in ([note.alerts] if note.alerts else []) + list(note.sections)
                + [note.appendix] for i, st in enumerate(sec.statements)}
    statements = {k[2:]: str(v) for k, v in form.multi_items() if k.startswith("s:")
                  and k[2:] in original and str(v).strip() != original[k[2:]]}
    additions = {k[4:]: str(v) for k, v in form.multi_items() if k.startswith("add:") and str(v).strip()}
    header = {f: str(form.get(f"h:{f}", "")).strip() for f in service.EDITABLE_HEADER
              if str(form.get(f"h:{f}", "")).strip() != getattr(note.header, f)}
    header = {k: v for k, v in header.items() if v or getattr(note.header, k) != service.CLINICIAN}
    if not (statements or additions or header):
        return redirect(f"/sessions/{rec.id}#note", "No changes to save.", request)
    row = service.edit_note(db, user, rec, int(str(form.get("base_version", "0")) or 0), statements=statements,
                            header=header, additions=additions)
    db.commit()
    return redirect(f"/sessions/{rec.id}#note", f"Saved note version {row.version}.", request)


@router.post("/sessions/{session_id}/sign")
def sign(*, request: Request, session_id: str, version: Annotated[int, Form()], csrf_token: Annotated[str, Form()] = "",
         user: PageUser, db: Db) -> Response:
    check_csrf(request, csrf_token)
    rec = service.get_session(db, user, session_id, owner_only=True)
    service.sign_note(db, user, rec, version)
    db.commit()
    return redirect(f"/sessions/{rec.id}#note", f"Signed note version {version}.", request)


@router.post("/sessions/{session_id}/retry")
def retry(*, request: Request, session_id: str, csrf_token: Annotated[str, Form()] = "", user: PageUser,
          db: Db) -> Response:
    check_csrf(request, csrf_token)
    rec = service.get_session(db, user, session_id)
    service.retry(db, user, rec)
    db.commit()
    return redirect(f"/sessions/{rec.id}", "Queued again.", request)


@router.post("/sessions/{session_id}/delete")
def delete(*, request: Request, session_id: str, csrf_token: Annotated[str, Form()] = "", user: PageUser,
           db: Db, s: Settings) -> Response:
    check_csrf(request, csrf_token)
    rec = service.get_session(db, user, session_id)
    title = rec.title
    service.delete_session(db, s, user, rec)
    db.commit()
    return redirect("/sessions", f"Deleted {title} and its files.", request)


@router.get("/sessions/{session_id}/export/{fmt}")
def export(session_id: str, fmt: str, user: PageUser, db: Db) -> Response:
    rec = service.get_session(db, user, session_id)
    data, media, filename = service.export(db, user, rec, fmt)
    db.commit()
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@router.get("/sessions/{session_id}/audio")
def audio(request: Request, session_id: str, user: PageUser, db: Db,
          s: Settings) -> FileResponse:
    rec = service.get_session(db, user, session_id)
    path = service.audio_for_playback(db, s, user, rec, request.headers.get("range"))
    if path is None:
        raise service.NotFound(session_id)
    db.commit()
    return FileResponse(path, headers={"Cache-Control": "private, no-store"})


@router.get("/admin/audit")
def audit_page(request: Request, user: PageUser, db: Db) -> HTMLResponse:
    if not user.is_admin:
        raise service.NotFound("audit")
    return render(request, "audit.html", user=user, events=audit.events(db, limit=500))
