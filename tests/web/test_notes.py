"""Notes: versioned edits, signing (immutable afterwards), exports, the audit log, de-identification, retention,
sign-in and cookies."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from fastapi.testclient import TestClient
from web_helpers import PASSWORD, WebEnv, csrf_of, login, make_users, web_settings

from tagger.web import create_app
from tagger.web.db import make_engine, session_factory
from tagger.web.models import AuditEvent, NoteVersion, TherapySession
from tagger.web.worker import sweep_audio


def note(web: WebEnv, sid: str, who: str = "alice") -> dict:
    r = web.client.get(f"/api/sessions/{sid}/note", headers=web.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def test_edit_versions_sign_and_export(done_web) -> None:
    web, sid = done_web
    n1 = note(web, sid)
    assert n1["version"] == 1 and not n1["signed"] and n1["versions"][0]["author"] is None
    first = n1["note"]["sections"][0]
    key = f"{first['key']}.0"
    edit = {"base_version": 1, "statements": {key: "Client reported a better week."},
            "header": {"clinician": "Dr. Alice", "session_date": "2026-11-20"},
            "additions": {"P": "Review in 2 weeks."}}
    put = web.client.put(f"/api/sessions/{sid}/note", json=edit, headers=web.auth("alice"))
    assert put.status_code == 200, put.text
    n2 = put.json()
    assert n2["version"] == 2 and [v["version"] for v in n2["versions"]] == [1, 2]
    assert n2["versions"][1]["author"] == "alice"
    assert n2["note"]["sections"][0]["statements"][0]["text"] == "Client reported a better week."
    assert n2["note"]["header"]["clinician"] == "Dr. Alice"
    plan = next(s for s in n2["note"]["sections"] if s["key"] == "P")
    assert plan["statements"][-1]["text"] == "Review in 2 weeks."
    # the first version is kept unchanged
    assert n1["note"]["sections"][0]["statements"][0]["text"] != "Client reported a better week."

    # stale edits and stale signatures are refused
    assert web.client.put(f"/api/sessions/{sid}/note", json=edit, headers=web.auth("alice")).status_code == 409
    assert web.client.post(f"/api/sessions/{sid}/note/sign", json={"version": 1},
                           headers=web.auth("alice")).status_code == 409
    bad = {"base_version": 2, "statements": {"Z.99": "x"}}
    assert web.client.put(f"/api/sessions/{sid}/note", json=bad, headers=web.auth("alice")).status_code == 422

    r = web.client.post(f"/api/sessions/{sid}/note/sign", json={"version": 2}, headers=web.auth("alice"))
    assert r.status_code == 200 and r.json()["signed"]
    assert r.json()["versions"][-1]["signed_by"] == "alice"
    # signed: immutable
    edit["base_version"] = 2
    r = web.client.put(f"/api/sessions/{sid}/note", json=edit, headers=web.auth("alice"))
    assert r.status_code == 409 and "signed" in r.json()["detail"]
    assert web.client.post(f"/api/sessions/{sid}/note/sign", json={"version": 2},
                           headers=web.auth("alice")).status_code == 409

    md = web.client.get(f"/api/sessions/{sid}/export/md", headers=web.auth("alice"))
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert "Signed by Alice" in md.text and "Client reported a better week." in md.text
    assert md.text.startswith("# SOAP progress note (signed)") and "AI-DRAFTED" not in md.text
    assert 'filename="cbt_session.note.md"' in md.headers["content-disposition"]
    pdf = web.client.get(f"/api/sessions/{sid}/export/pdf", headers=web.auth("alice"))
    assert pdf.content.startswith(b"%PDF")
    js = json.loads(web.client.get(f"/api/sessions/{sid}/export/json", headers=web.auth("alice")).text)
    assert js["header"]["clinician"] == "Dr. Alice"
    assert js["title"].endswith("(signed)") and js["header"]["signed_by"]
    assert web.client.get(f"/api/sessions/{sid}/export/docx", headers=web.auth("alice")).status_code == 422

    events = web.client.get(f"/api/audit?session_id={sid}", headers=web.auth("root")).json()
    actions = [(e["username"], e["action"]) for e in reversed(events)]
    for expected in [("alice", "upload"), ("", "processed"), ("alice", "view"), ("alice", "edit"), ("alice", "sign"),
                     ("alice", "export")]:
        assert expected in actions, actions
    assert actions.index(("alice", "edit")) < actions.index(("alice", "sign"))


def test_transcript_and_session_page(done_web) -> None:
    web, sid = done_web
    rows = web.client.get(f"/api/sessions/{sid}/transcript", headers=web.auth("alice")).json()
    assert len(rows) == 25 and {"codes", "scores", "start", "speaker"} <= set(rows[0])
    c = TestClient(web.client.app)
    login(c, "alice")
    html = c.get(f"/sessions/{sid}").text
    assert html.count('class="line ') == 25
    assert 'class="chip' in html and "<svg class=\"timeline\"" in html
    assert "/static/app.js" in html and "<script>" not in html  # no inline scripts (CSP: script-src 'self')


def test_delete_removes_files_and_keeps_an_audit_row(web: WebEnv, data_samples: Path) -> None:
    r = web.upload(data_samples / "session_audio.mp3")
    sid = r.json()["id"]
    folder = web.settings.uploads_dir / sid
    assert any(p.name.startswith("upload") for p in folder.iterdir())
    assert web.client.delete(f"/api/sessions/{sid}", headers=web.auth("alice")).status_code == 204
    assert not folder.exists()
    events = web.client.get(f"/api/audit?session_id={sid}", headers=web.auth("root")).json()
    assert events[0]["action"] == "delete" and events[0]["username"] == "alice"


def test_deidentified_transcript_keeps_no_identifying_copy(web: WebEnv) -> None:
    text = b"Therapist: Hello Maria, how was your week in Boston?\nClient: Fine. Call me on 555-123-4567.\n"
    r = web.client.post("/api/sessions", headers=web.auth("alice"), files={"file": ("maria.txt", text)},
                        data={"deidentify": "true"})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert web.wait(sid)["status"] == "done"
    rows = web.client.get(f"/api/sessions/{sid}/transcript", headers=web.auth("alice")).json()
    joined = " ".join(t["text"] for t in rows)
    assert "Maria" not in joined and "555-123-4567" not in joined
    assert note(web, sid)["note"]["header"]["deidentified"] is True
    assert not any(p.name.startswith("upload") for p in (web.settings.uploads_dir / sid).iterdir())


def test_audio_retention_sweep(web: WebEnv, data_samples: Path) -> None:
    """--retain-audio N: processed recordings older than N days are deleted (the note stays)."""
    sid = web.upload(data_samples / "mi_session.txt").json()["id"]
    web.wait(sid)
    factory = session_factory(make_engine(web.settings.database_url))
    folder = web.settings.uploads_dir / sid
    (folder / "upload.wav").write_bytes(b"RIFF")
    with factory() as db:  # pretend it was a recording processed 40 days ago
        rec = db.get(TherapySession, sid)
        rec.kind, rec.upload_name = "audio", "upload.wav"
        rec.processed_at = rec.processed_at - dt.timedelta(days=40)
        db.commit()
    from dataclasses import replace

    with factory() as db:
        assert sweep_audio(db, replace(web.settings, retain_audio="60")) == 0
        assert sweep_audio(db, replace(web.settings, retain_audio="30")) == 1
        assert db.get(TherapySession, sid).upload_name is None
        assert db.query(NoteVersion).filter_by(session_id=sid).count() == 1
        assert db.query(AuditEvent).filter_by(session_id=sid, action="audio_deleted").count() == 1
    assert not (folder / "upload.wav").exists()


def test_retain_audio_delete_after_processing(tmp_path: Path, data_samples: Path) -> None:
    settings = web_settings(tmp_path / "data", retain_audio="delete")
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        env = WebEnv(settings, client, tokens)
        sid = env.upload(data_samples / "session_audio.mp3").json()["id"]
        s = env.wait(sid)
        assert s["status"] == "done" and not s["has_audio"] and s["utterances"] > 0
        assert [p.name for p in (settings.uploads_dir / sid).iterdir() if p.name.startswith("upload")] == []
        assert client.get(f"/api/sessions/{sid}/audio", headers=env.auth("alice")).status_code == 404


def test_sign_in_cookies_and_failures(tmp_path: Path) -> None:
    settings = web_settings(tmp_path / "data", secure_cookies=True)
    make_users(settings)
    with TestClient(create_app(settings, start_worker=False), base_url="https://testserver") as c:
        page = c.get("/login")
        assert page.headers["x-frame-options"] == "DENY"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        token = csrf_of(page.text)
        bad = c.post("/login", data={"username": "alice", "password": "wrong password", "csrf_token": token})
        assert bad.status_code == 401 and "wrong user name or password" in bad.text
        assert c.post("/login", data={"username": "alice", "password": PASSWORD}).status_code == 403  # no CSRF
        r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 303
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "secure" in cookie and "samesite=lax" in cookie
        assert PASSWORD not in r.headers["set-cookie"]
        assert c.get("/sessions").status_code == 200
        # the next parameter cannot send the user to another site
        login_page = c.get("/login?next=//evil.example/")
        assert 'value="/sessions"' in login_page.text
    secret = settings.data_dir / "secret.key"
    assert secret.stat().st_mode & 0o777 == 0o600
