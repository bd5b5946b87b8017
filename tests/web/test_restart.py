"""Restart recovery: a job running when the server is killed resumes when it starts again and completes once.

The server runs as `tagger serve` in a subprocess (the real command), killed with SIGKILL mid-job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from web_helpers import WebEnv, make_users, web_settings
from web_server import free_port, wait_up

from tagger.web import WebSettings, create_app
from tagger.web.db import make_engine, session_factory
from tagger.web.models import AuditEvent, Job, NoteVersion


def start(settings: WebSettings, port: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, TAGGER_WEB_JOB_LEASE_S="2")
    db = ["--db-url", settings.db_url] if settings.db_url else []
    return subprocess.Popen(
        [sys.executable, "-m", "tagger.cli", "serve", "--data-dir", str(settings.data_dir), "--port", str(port), *db],
        env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def test_job_survives_a_killed_server(tmp_path: Path, data_samples: Path) -> None:
    settings = web_settings(tmp_path / "data")
    tokens = make_users(settings)
    headers = {"Authorization": f"Bearer {tokens['alice']}"}
    port, log = free_port(), tmp_path / "server.log"
    url = f"http://127.0.0.1:{port}"
    proc = start(settings, port, log)
    try:
        wait_up(url, proc=proc)
        with open(data_samples / "session_audio.mp3", "rb") as fh:
            r = httpx.post(url + "/api/sessions", headers=headers, files={"file": ("session.mp3", fh)}, timeout=60)
        assert r.status_code == 201, r.text
        sid = r.json()["id"]
        deadline = time.monotonic() + 60
        while httpx.get(f"{url}/api/sessions/{sid}", headers=headers).json()["status"] != "running":
            assert time.monotonic() < deadline, "the job never started"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # no chance to hand the job back
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    factory = session_factory(make_engine(settings.database_url))
    with factory() as db:
        job = db.query(Job).filter_by(session_id=sid).one()
        assert (job.status, job.attempts) == ("running", 1), "killed too late: the job had finished"

    proc = start(settings, port, log)
    try:
        wait_up(url, proc=proc)
        deadline = time.monotonic() + 180
        while (s := httpx.get(f"{url}/api/sessions/{sid}", headers=headers).json())["status"] not in ("done",
                                                                                                      "failed"):
            assert time.monotonic() < deadline, f"the job did not resume: {s}"
            time.sleep(0.2)
        assert s["status"] == "done", s
        assert s["attempts"] == 2 and s["utterances"] > 0
        time.sleep(2.5)  # longer than a lease: a second completion would show up now
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    finally:
        if proc.poll() is None:
            proc.kill()
    with factory() as db:
        assert db.query(Job).filter_by(session_id=sid).one().status == "done"
        assert db.query(NoteVersion).filter_by(session_id=sid).count() == 1
        assert db.query(AuditEvent).filter_by(session_id=sid, action="processed").count() == 1
    text = log.read_text(errors="replace")
    assert "Application shutdown complete" in text
    assert tokens["alice"] not in text and "Authorization" not in text  # no secrets in the server log


def test_stopping_the_app_hands_a_running_job_back(tmp_path: Path, data_samples: Path) -> None:
    """A graceful stop gives the running job back to the queue (the attempt does not count); the next app
    built on the same database completes it once."""
    settings = web_settings(tmp_path / "data", job_lease_s=30.0)
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        env = WebEnv(settings, client, tokens)
        sid = env.upload(data_samples / "session_audio.mp3").json()["id"]
        deadline = time.monotonic() + 60
        while client.get(f"/api/sessions/{sid}", headers=env.auth("alice")).json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.05)
    factory = session_factory(make_engine(settings.database_url))
    with factory() as db:
        job = db.query(Job).filter_by(session_id=sid).one()
        assert (job.status, job.attempts, job.claim) == ("queued", 0, None)
    with TestClient(create_app(settings)) as client:  # the lease is long: no waiting needed after a clean stop
        s = WebEnv(settings, client, tokens).wait(sid)
        assert s["status"] == "done" and s["attempts"] == 1
    with factory() as db:
        assert db.query(NoteVersion).filter_by(session_id=sid).count() == 1
