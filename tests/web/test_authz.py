"""Authorization matrix: every API endpoint and page, as anonymous, the owner, another clinician and an admin.

Another clinician gets 404 for a session that is not theirs (as if it did not exist); an admin may read,
export, retry and delete any session but not edit or sign someone else's note (403).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from web_helpers import WebEnv, csrf_of, login

ROLES = ("anonymous", "owner", "other", "admin")
WHO = {"anonymous": None, "owner": "alice", "other": "bob", "admin": "root"}

# (method, path, expected status per role); {sid}: alice's processed transcript, {aid}: her recording
READS = [
    ("GET", "/api/me", (401, 200, 200, 200)),
    ("GET", "/api/sessions", (401, 200, 200, 200)),
    ("GET", "/api/sessions?all=true", (401, 403, 403, 200)),
    ("GET", "/api/sessions/{sid}", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/transcript", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/note", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/export/md", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/export/pdf", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/export/json", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/export/html", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{aid}/audio", (401, 200, 404, 200)),
    ("GET", "/api/sessions/{sid}/audio", (401, 404, 404, 404)),  # a transcript has no audio
    ("GET", "/api/sessions/0123456789abcdef0123456789abcdef", (401, 404, 404, 404)),
    ("GET", "/api/audit", (401, 403, 403, 200)),
    ("GET", "/api/users", (401, 403, 403, 200)),
]


@pytest.fixture(scope="module")
def env(done_web, data_samples) -> tuple[WebEnv, dict[str, str]]:
    web, sid = done_web
    r = web.upload(data_samples / "session_audio.mp3")
    assert r.status_code == 201, r.text
    assert web.wait(r.json()["id"])["status"] == "done"
    return web, {"sid": sid, "aid": r.json()["id"]}


def fresh(web: WebEnv, data_samples, who: str = "alice") -> str:
    r = web.upload(data_samples / "mi_session.txt", who)
    assert r.status_code == 201, r.text
    assert web.wait(r.json()["id"], who)["status"] == "done"
    return r.json()["id"]


@pytest.mark.parametrize(("method", "path", "expected"), READS, ids=[f"{m} {p}" for m, p, _ in READS])
def test_api_reads(env, method: str, path: str, expected: tuple[int, ...]) -> None:
    web, ids = env
    for role, status in zip(ROLES, expected, strict=True):
        r = web.client.request(method, path.format(**ids), headers=web.auth(WHO[role]))
        assert r.status_code == status, (role, r.text[:300])
        if status == 401:
            assert r.headers["www-authenticate"] == "Bearer"


def test_session_lists_show_only_own_sessions(env) -> None:
    web, ids = env
    ids_of = {who: {s["id"] for s in web.client.get("/api/sessions", headers=web.auth(who)).json()}
              for who in ("alice", "bob", "root")}
    assert {ids["sid"], ids["aid"]} <= ids_of["alice"]
    assert not ids_of["bob"] & ids_of["alice"]
    assert not ids_of["root"] & ids_of["alice"]  # admins see everyone's only with all=true
    everyone = {s["id"] for s in web.client.get("/api/sessions?all=true", headers=web.auth("root")).json()}
    assert ids_of["alice"] <= everyone


def test_upload_matrix(env, data_samples) -> None:
    web, _ = env
    assert web.upload(data_samples / "mi_session.txt", None).status_code == 401
    for who in ("alice", "bob", "root"):
        r = web.upload(data_samples / "mi_session.txt", who)
        assert r.status_code == 201, r.text
        assert r.json()["owner"] == who


def test_edit_and_sign_matrix(env, data_samples) -> None:
    web, _ = env
    sid = fresh(web, data_samples)
    edit = {"base_version": 1, "header": {"clinician": "Dr. A"}}
    for who, status in ((None, 401), ("bob", 404), ("root", 403)):
        assert web.client.put(f"/api/sessions/{sid}/note", json=edit, headers=web.auth(who)).status_code == status
        assert web.client.post(f"/api/sessions/{sid}/note/sign", json={"version": 1},
                               headers=web.auth(who)).status_code == status
    r = web.client.put(f"/api/sessions/{sid}/note", json=edit, headers=web.auth("alice"))
    assert r.status_code == 200 and r.json()["version"] == 2
    r = web.client.post(f"/api/sessions/{sid}/note/sign", json={"version": 2}, headers=web.auth("alice"))
    assert r.status_code == 200 and r.json()["signed"]


def test_retry_matrix(env) -> None:
    web, ids = env
    for who, status in ((None, 401), ("bob", 404), ("root", 409), ("alice", 409)):  # 409: the job is not failed
        assert web.client.post(f"/api/sessions/{ids['sid']}/retry", headers=web.auth(who)).status_code == status


def test_delete_matrix(env, data_samples) -> None:
    web, _ = env
    sid = fresh(web, data_samples)
    for who, status in ((None, 401), ("bob", 404)):
        assert web.client.delete(f"/api/sessions/{sid}", headers=web.auth(who)).status_code == status
    assert web.client.delete(f"/api/sessions/{sid}", headers=web.auth("alice")).status_code == 204
    assert web.client.get(f"/api/sessions/{sid}", headers=web.auth("alice")).status_code == 404
    sid = fresh(web, data_samples)
    assert web.client.delete(f"/api/sessions/{sid}", headers=web.auth("root")).status_code == 204
    assert not (web.settings.uploads_dir / sid).exists()


def test_token_matrix(env) -> None:
    web, _ = env
    assert web.client.post("/api/tokens", json={"label": "x"}).status_code == 401
    made = {}
    for who in ("alice", "bob"):
        r = web.client.post("/api/tokens", json={"label": "script"}, headers=web.auth(who))
        assert r.status_code == 201
        made[who] = r.json()
        assert web.client.get("/api/me", headers={"Authorization": f"Bearer {made[who]['token']}"}).json()[
            "username"] == who
    assert web.client.delete(f"/api/tokens/{made['alice']['id']}").status_code == 401
    assert web.client.delete(f"/api/tokens/{made['alice']['id']}", headers=web.auth("bob")).status_code == 404
    assert web.client.delete(f"/api/tokens/{made['alice']['id']}", headers=web.auth("alice")).status_code == 204
    assert web.client.delete(f"/api/tokens/{made['bob']['id']}", headers=web.auth("root")).status_code == 204
    for who in ("alice", "bob"):  # revoked tokens stop working
        assert web.client.get("/api/me", headers={"Authorization": f"Bearer {made[who]['token']}"}).status_code == 401


PAGES = [
    ("/sessions", (303, 200, 200, 200)),
    ("/upload", (303, 200, 200, 200)),
    ("/sessions/{sid}", (303, 200, 404, 200)),
    ("/sessions/{sid}/export/pdf", (303, 200, 404, 200)),
    ("/sessions/{aid}/audio", (303, 200, 404, 200)),
    ("/admin/audit", (303, 404, 404, 200)),
]


def _browser(web: WebEnv, who: str | None) -> TestClient:
    client = TestClient(web.client.app)
    if who:
        login(client, who)
    return client


@pytest.mark.parametrize(("path", "expected"), PAGES, ids=[p for p, _ in PAGES])
def test_pages(env, path: str, expected: tuple[int, ...]) -> None:
    web, ids = env
    for role, status in zip(ROLES, expected, strict=True):
        r = _browser(web, WHO[role]).get(path.format(**ids), follow_redirects=False)
        assert r.status_code == status, (role, r.text[:300])
        if status == 303:
            assert r.headers["location"].startswith("/login?next=")


def test_page_posts(env, data_samples) -> None:
    """Form posts: another clinician gets 404, an admin 403 for edit/sign, anyone without the CSRF token 403."""
    web, _ = env
    sid = fresh(web, data_samples)
    anon = _browser(web, None)
    assert anon.post(f"/sessions/{sid}/sign", data={"version": 1}, follow_redirects=False).status_code == 303
    for who, sign_status, delete_status in (("bob", 404, 404), ("root", 403, None)):
        c = _browser(web, who)
        token = csrf_of(c.get("/sessions").text)
        assert c.post(f"/sessions/{sid}/sign", data={"version": 1, "csrf_token": token}).status_code == sign_status
        assert c.post(f"/sessions/{sid}/note", data={"base_version": 1, "h:clinician": "x", "csrf_token": token}
                      ).status_code == sign_status
        if delete_status:
            assert c.post(f"/sessions/{sid}/delete", data={"csrf_token": token}).status_code == delete_status
            assert c.post(f"/sessions/{sid}/retry", data={"csrf_token": token}).status_code == delete_status
    owner = _browser(web, "alice")
    assert owner.post(f"/sessions/{sid}/sign", data={"version": 1}).status_code == 403  # no CSRF token
    assert owner.post(f"/sessions/{sid}/sign", data={"version": 1, "csrf_token": "forged"}).status_code == 403
    token = csrf_of(owner.get(f"/sessions/{sid}").text)
    r = owner.post(f"/sessions/{sid}/note", data={"base_version": 1, "h:clinician": "Dr. A", "csrf_token": token},
                   follow_redirects=False)
    assert r.status_code == 303
    r = owner.post(f"/sessions/{sid}/sign", data={"version": 2, "csrf_token": token})
    assert r.status_code == 200 and "Signed by Alice" in r.text
    admin = _browser(web, "root")
    token = csrf_of(admin.get("/sessions").text)
    r = admin.post(f"/sessions/{sid}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303


def test_cookie_api_needs_csrf_header(env, data_samples) -> None:
    """The JSON API also accepts the session cookie, but then every change needs the X-CSRF-Token header."""
    web, _ = env
    sid = fresh(web, data_samples)
    c = _browser(web, "alice")
    assert c.get(f"/api/sessions/{sid}").status_code == 200
    edit = {"base_version": 1, "header": {"clinician": "Dr. A"}}
    assert c.put(f"/api/sessions/{sid}/note", json=edit).status_code == 403
    token = csrf_of(c.get("/sessions").text)
    assert c.put(f"/api/sessions/{sid}/note", json=edit, headers={"X-CSRF-Token": token}).status_code == 200
