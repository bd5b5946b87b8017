"""The persistent job queue: every state change is one conditional UPDATE, so it is atomic on SQLite and PostgreSQL.

``queued`` -> ``running`` (claimed with a random token and a lease the worker keeps extending) ->
``done`` or ``failed``. A running job whose lease ran out (its server died) goes back to ``queued``;
only the holder of the current claim can finish a job, so a job completes exactly once.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tagger.web.models import Job, utcnow


def enqueue(db: Session, session_id: str) -> Job:
    job = Job(session_id=session_id, status="queued")
    db.add(job)
    db.flush()
    return job


def claim_next(db: Session, lease_s: float) -> tuple[Job, str] | None:
    """Claim the oldest queued job: the job and the claim token, or None when the queue is empty."""
    for job_id in db.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5)):
        token = secrets.token_hex(16)
        now = utcnow()
        res = db.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == "queued")
            .values(status="running", claim=token, lease_until=now + dt.timedelta(seconds=lease_s),
                    attempts=Job.attempts + 1, started_at=now, stage="starting", progress=0.0, error=None)
        )
        if res.rowcount == 1:
            db.commit()
            job = db.get(Job, job_id, populate_existing=True)
            assert job is not None
            return job, token
        db.rollback()  # another worker took it first
    return None


def heartbeat(db: Session, job_id: int, token: str, lease_s: float, stage: str | None = None,
              progress: float | None = None) -> bool:
    """Extend the lease (and store progress); False when the claim was lost."""
    values: dict[str, object] = {"lease_until": utcnow() + dt.timedelta(seconds=lease_s)}
    if stage is not None:
        values["stage"] = stage
    if progress is not None:
        values["progress"] = round(min(max(progress, 0.0), 1.0), 3)
    res = db.execute(update(Job).where(Job.id == job_id, Job.claim == token, Job.status == "running").values(**values))
    db.commit()
    return res.rowcount == 1


def finish(db: Session, job_id: int, token: str, error: str | None = None) -> bool:
    """Mark the job done (or failed with ``error``) if ``token`` still holds it. Does not commit: the
    caller commits it together with the job's results, so results and completion land once, together."""
    res = db.execute(
        update(Job)
        .where(Job.id == job_id, Job.claim == token, Job.status == "running")
        .values(status="failed" if error else "done", error=error, finished_at=utcnow(), claim=None,
                lease_until=None, stage="failed" if error else "done", progress=1.0 if not error else Job.progress)
    )
    return res.rowcount == 1


def release(db: Session, job_id: int, token: str) -> None:
    """Give a job back to the queue (the server is stopping); the attempt does not count."""
    db.execute(update(Job).where(Job.id == job_id, Job.claim == token, Job.status == "running")
               .values(status="queued", claim=None, lease_until=None, stage="", attempts=Job.attempts - 1))
    db.commit()


def requeue_expired(db: Session, max_attempts: int) -> int:
    """Running jobs whose lease ran out go back to the queue (or fail after ``max_attempts``)."""
    now = utcnow()
    expired = (Job.status == "running", Job.lease_until < now)
    failed = db.execute(
        update(Job).where(*expired, Job.attempts >= max_attempts)
        .values(status="failed", claim=None, lease_until=None, finished_at=now, stage="failed",
                error=f"the server stopped while processing this session {max_attempts} times; retry it, and "
                      "if it fails again check the server's memory and logs")
    ).rowcount
    requeued = db.execute(
        update(Job).where(*expired).values(status="queued", claim=None, lease_until=None, stage="interrupted")
    ).rowcount
    db.commit()
    return failed + requeued


def retry(db: Session, session_id: str) -> Job | None:
    """Queue a failed job again; None when the session's job is not failed."""
    job = latest(db, session_id)
    if job is None or job.status != "failed":
        return None
    job.status, job.error, job.stage, job.progress, job.attempts = "queued", None, "", 0.0, 0
    job.finished_at = None
    db.flush()
    return job


def latest(db: Session, session_id: str) -> Job | None:
    return db.scalar(select(Job).where(Job.session_id == session_id).order_by(Job.id.desc()).limit(1))
