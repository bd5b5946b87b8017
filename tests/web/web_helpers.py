"""Helpers of the web app tests: settings on a temporary data dir, three users with API tokens, a client wrapper."""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from tagger.web import WebSettings, auth
from tagger.web.config import prepare_data_dir
from tagger.web.db import make_engine, migrate, session_factory

PASSWORD = "correct horse battery"
USERS = {"alice": "clinician", "bob": "clinician", "root": "admin"}


@dataclass
class WebEnv:
    settings: WebSettings
    client: TestClient
    tokens: dict[str, str]

    def auth(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}

    def upload(self, path: Path, who: str = "alice", name: str | None = None, **form: str):
        with open(path, "rb") as fh:
            return self.client.post("/api/sessions", headers=self.auth(who),
                                    files={"file": (name or path.name, fh)}, data=form)

    def wait(self, session_id: str, who: str = "alice", timeout: float = 120.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.client.get(f"/api/sessions/{session_id}", headers=self.auth(who)).json()
            if s["status"] in ("done", "failed"):
                return s
            time.sleep(0.2)
        raise AssertionError(f"session {session_id} did not finish in {timeout} s: {s}")


def make_users(settings: WebSettings) -> dict[str, str]:
    """Create alice, bob (clinicians) and root (admin); returns an API token per user."""
    prepare_data_dir(settings)
    engine = make_engine(settings.database_url)
    migrate(engine)
    tokens = {}
    with session_factory(engine)() as db:
        for name, role in USERS.items():
            user = auth.add_user(db, name, PASSWORD, role, display_name=name.title())
            tokens[name] = auth.new_token(db, user, "tests")[1]
        db.commit()
    engine.dispose()
    return tokens


def web_settings(data_dir: Path, **kw: object) -> WebSettings:
    """Settings on ``data_dir``. With ``TAGGER_TEST_PG_URL`` set (a PostgreSQL server URL whose user may
    create databases, e.g. ``postgresql://postgres@127.0.0.1:5433/postgres``), each call gets a fresh
    database there instead of SQLite in the data dir."""
    kw.setdefault("secure_cookies", False)
    kw.setdefault("job_lease_s", 3.0)
    if os.environ.get("TAGGER_TEST_PG_URL") and "db_url" not in kw:
        kw["db_url"] = fresh_pg_database(os.environ["TAGGER_TEST_PG_URL"])
    return WebSettings(data_dir=data_dir, **kw)  # type: ignore[arg-type]


def fresh_pg_database(server_url: str) -> str:
    import psycopg

    name = f"tagger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form (fetching its CSRF token first)."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def csrf_of(html: str) -> str:
    return html.split('data-csrf="', 1)[1].split('"', 1)[0]
