"""Sign-in throttling: repeated failures lock out a user name (and an address) for a while."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from web_helpers import PASSWORD, csrf_of, make_users, web_settings

from tagger.web.app import create_app
from tagger.web.models import AuditEvent
from tagger.web.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_window_counts_failures_and_expires() -> None:
    clock = Clock()
    th = LoginThrottle(max_failures=3, window_s=60, clock=clock)
    for _ in range(3):
        assert th.check("user:a", "ip:1").allowed
        th.failed("user:a", "ip:1")
        clock.t += 1
    v = th.check("user:a")
    assert not v.allowed and v.retry_after_s == 57  # failures at +0, +1, +2 s; now +3: the first expires at +60
    assert not th.check("user:b", "ip:1").allowed  # the address is blocked for every name
    assert th.check("user:b", "ip:2").allowed
    clock.t += 58
    assert th.check("user:a", "ip:1").allowed
    th.failed("user:c")
    th.succeeded("user:c")
    assert th._failures.keys() == {"user:a", "ip:1"}  # noqa: SLF001 (the table forgets cleared keys)


def test_sign_in_is_refused_after_repeated_failures(tmp_path: Path) -> None:
    settings = web_settings(tmp_path / "data")
    make_users(settings)
    app = create_app(settings, start_worker=False)
    with TestClient(app) as c:
        token = csrf_of(c.get("/login").text)
        for _ in range(5):
            r = c.post("/login", data={"username": "alice", "password": "not her password", "csrf_token": token})
            assert r.status_code == 401
        r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 429 and "too many failed sign-ins" in r.text
        assert int(r.headers["retry-after"]) > 0
        with app.state.db_factory() as db:
            actions = [e.action for e in db.scalars(select(AuditEvent))]
        assert actions.count("login_failed") == 5 and "login_throttled" in actions
        # another name from the same address is blocked too (the address counts failures)
        r = c.post("/login", data={"username": "bob", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 429
        app.state.login_throttle = LoginThrottle()  # the window passing, without waiting 15 minutes
        r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 303
