"""Background worker threads: claim queued jobs from the database, run them, store the results.

Results (files, then the note's first version and the job's completion in one transaction) are
committed only by the holder of the job's current claim, so a job interrupted by a crash and
resumed after a restart completes exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tagger.errors import TaggerError
from tagger.web import audit, jobs, storage
from tagger.web.config import WebSettings
from tagger.web.models import NoteVersion, TherapySession, utcnow
from tagger.web.process import Processor, Request

logger = logging.getLogger(__name__)

POLL_S = 0.5
SWEEP_EVERY_S = 60.0


class Interrupted(Exception):
    """The server is stopping, or another worker took the job over: leave it for the queue."""


class Worker:
    """``settings.workers`` threads processing the queue; ``stop()`` hands unfinished jobs back."""

    def __init__(self, settings: WebSettings, factory: sessionmaker[Session], processor: Processor) -> None:
        self.settings = settings
        self.factory = factory
        self.processor = processor
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._last_sweep = 0.0

    def start(self) -> None:
        for i in range(self.settings.workers):
            t = threading.Thread(target=self._loop, name=f"tagger-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.run_once():
                    self._stop.wait(POLL_S)
            except Exception:  # noqa: BLE001 - a database hiccup must not kill the worker thread
                logger.exception("worker loop error; retrying")
                self._stop.wait(5.0)

    def run_once(self) -> bool:
        """Requeue expired jobs, sweep audio, run one queued job; True if a job was run."""
        with self.factory() as db:
            jobs.requeue_expired(db, self.settings.max_attempts)
            if time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
                self._last_sweep = time.monotonic()
                sweep_audio(db, self.settings)
            claimed = jobs.claim_next(db, self.settings.job_lease_s)
        if claimed is None:
            return False
        job, token = claimed
        self._run(job.id, job.session_id, token)
        return True

    def _run(self, job_id: int, session_id: str, token: str) -> None:
        with self.factory() as db:
            rec = db.get(TherapySession, session_id)
            if rec is None or rec.upload_name is None:
                jobs.finish(db, job_id, token, "the uploaded file is gone (deleted); upload the session again")
                db.commit()
                return
            folder = storage.session_dir(self.settings.uploads_dir, session_id)
            req = Request(folder / rec.upload_name, rec.kind, rec.title, rec.note_format, rec.deidentify,
                          tuple(n for n in rec.therapist_names.split(",") if n))
        beat = _Heartbeat(self, job_id, token)
        beat.start()
        try:
            result = self.processor.run(req, beat.report)
        except Interrupted:
            beat.stop()
            if not beat.lost:
                with self.factory() as db:
                    jobs.release(db, job_id, token)
            return
        except TaggerError as exc:
            beat.stop()
            self._fail(job_id, token, session_id, str(exc).replace(str(folder) + "/", ""))
            return
        except Exception as exc:  # noqa: BLE001 - shown to the user as the job's reason, and logged
            beat.stop()
            logger.exception("job %s failed", job_id)
            self._fail(job_id, token, session_id, f"internal error ({type(exc).__name__}); retry, and report it "
                                                  "if it happens again")
            return
        beat.stop()
        self._complete(job_id, token, session_id, folder, result)

    def _fail(self, job_id: int, token: str, session_id: str, reason: str) -> None:
        with self.factory() as db, db.begin():
            if jobs.finish(db, job_id, token, reason):
                audit.record(db, None, "failed", session_id, reason[:200])

    def _complete(self, job_id: int, token: str, session_id: str, folder, result) -> None:  # noqa: ANN001
        info = dict(result.info, warnings=list(result.warnings))
        with self.factory() as db:
            if db.get(TherapySession, session_id) is None or not folder.is_dir():
                return  # deleted while it was processed; its job row went with it
        storage.write_results(folder, result.tagged, info)
        delete_upload = None
        with self.factory() as db, db.begin():
            if not jobs.finish(db, job_id, token):
                return  # the claim was lost (lease expired): the job's new holder completes it
            rec = db.get(TherapySession, session_id)
            if rec is None:
                return
            last = db.scalar(select(NoteVersion.version).where(NoteVersion.session_id == session_id)
                             .order_by(NoteVersion.version.desc()).limit(1))
            if last is None:  # a retried job keeps the versions a clinician may already have edited
                db.add(NoteVersion(session_id=session_id, version=1, body=json.dumps(result.note.to_dict())))
            rec.processed_at = utcnow()
            rec.utterances = len(result.tagged)
            rec.risk_flags = sum(1 for t in result.tagged if t.risk_indicator)
            rec.warnings = "\n".join(result.warnings)
            # a de-identified session keeps no identifying copy of a transcript; audio follows --retain-audio
            drop_audio = rec.kind == "audio" and self.settings.retain_days == 0
            if (rec.kind == "transcript" and rec.deidentify) or drop_audio:
                delete_upload, rec.upload_name, rec.audio_deleted_at = rec.upload_name, None, utcnow()
            audit.record(db, None, "processed", session_id, f"{len(result.tagged)} utterances")
        if delete_upload:
            (folder / delete_upload).unlink(missing_ok=True)


class _Heartbeat:
    """Keeps the job's lease alive and its progress current from a side thread; flags a lost claim."""

    def __init__(self, worker: Worker, job_id: int, token: str) -> None:
        self.worker, self.job_id, self.token = worker, job_id, token
        self.stage, self.progress = "starting", 0.0
        self.lost = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"tagger-heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def report(self, stage: str, fraction: float) -> None:
        """Progress callback of the pipeline; raises :class:`Interrupted` to abandon the job."""
        self.stage, self.progress = stage, fraction
        if self.worker._stop.is_set() or self.lost:
            raise Interrupted

    def _beat(self) -> None:
        lease = self.worker.settings.job_lease_s
        interval = min(1.0, lease / 3)
        while not self._done.wait(interval):
            try:
                with self.worker.factory() as db:
                    if not jobs.heartbeat(db, self.job_id, self.token, lease, self.stage, self.progress):
                        self.lost = True
                        return
            except Exception:  # noqa: BLE001 - try again on the next beat; the lease is several beats long
                logger.warning("heartbeat of job %s failed", self.job_id, exc_info=True)


def sweep_audio(db: Session, settings: WebSettings) -> int:
    """Delete processed recordings older than ``--retain-audio`` days; returns how many were deleted."""
    days = settings.retain_days
    if days is None:
        return 0
    cutoff = utcnow() - dt.timedelta(days=days)
    rows = list(db.scalars(select(TherapySession).where(
        TherapySession.kind == "audio", TherapySession.upload_name.is_not(None),
        TherapySession.processed_at.is_not(None), TherapySession.processed_at <= cutoff)))
    for rec in rows:
        assert rec.upload_name is not None
        (storage.session_dir(settings.uploads_dir, rec.id) / rec.upload_name).unlink(missing_ok=True)
        rec.upload_name, rec.audio_deleted_at = None, utcnow()
        audit.record(db, None, "audio_deleted", rec.id, f"retention: {settings.retain_audio}")
    db.commit()
    return len(rows)
