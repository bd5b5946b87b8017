"""The units of work every engine runs, in plain data so they cross process and machine boundaries.

Stage 1, :class:`AsrJob`: one recording -> its transcript (a :class:`~tagger.types.Session` as a
dict). Stage 2, :class:`GroupJob`: a fixed group of inputs -> tagged records per input.

Groups make results reproducible. The classifier batches all sessions it is given together,
and its encoder's int8 activations are quantized per batch, so a session's scores depend (in
the 3rd-4th decimal) on which sessions share its batches. A group is a fixed run of
consecutive inputs of the manifest, always classified together, whichever engine runs it and
whether or not an earlier run was killed half way through it; so outputs are byte-identical
across engines and resumes, and still batched across sessions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tagger.errors import ModelError, TaggerError
from tagger.pipeline import Pipeline, PipelineConfig
from tagger.types import Session

AUDIO_MISSING = "audio support not installed"


class WorkerLost(TaggerError):
    """A worker process or actor died (killed, out of memory). Everything finished is saved."""

    exit_code = 4


#: Threads per worker by default. Scores depend on the thread count in the 4th decimal (float
#: reductions in the torch layers: 6 of 66,723 utterance records differed between 1 and 2 threads,
#: no code changed), so both engines derive the same layout from the same rule; beyond ~4 threads
#: one worker scales worse than more workers.
MAX_THREADS_PER_WORKER = 4


def worker_layout(cpus: int, workers: int | None, threads: int | None) -> tuple[int, int]:
    """(workers, threads per worker) for ``cpus`` cores, filling in whichever the user left out."""
    cpus = max(1, cpus)
    if threads is None:
        threads = max(1, cpus // workers) if workers else min(cpus, MAX_THREADS_PER_WORKER)
    if workers is None:
        workers = max(1, cpus // threads)
    return workers, threads


def with_threads(spec: WorkerSpec, threads: int) -> WorkerSpec:
    """The spec with ``threads`` for the classifier and the ASR model (unless the user set them)."""
    pipeline = spec.pipeline if spec.pipeline.threads else replace(spec.pipeline, threads=threads)
    audio = spec.audio if spec.audio.get("cpu_threads") else {**spec.audio, "cpu_threads": threads}
    return replace(spec, pipeline=pipeline, audio=audio)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker needs to build its models, once."""

    pipeline: PipelineConfig
    audio: dict[str, Any] = field(default_factory=dict)  # TranscribeOptions fields
    cache_dir: str | None = None  # TAGGER_CACHE for the worker (ONNX graphs)


@dataclass(frozen=True)
class AsrJob:
    index: int
    path: str
    source: str
    session_id: str | None = None
    therapist_speaker: str | None = None


@dataclass(frozen=True)
class GroupJob:
    group: int
    members: tuple[tuple[int, tuple[dict[str, Any], ...]], ...]  # (item index, session dicts) in manifest order


def error_dict(stage: str, exc: BaseException, path: str | Path | None = None, source: str = "") -> dict[str, Any]:
    """An error as the errors report records it; ``retry`` when the input itself may be fine.
    ``path`` in the message is replaced by ``source`` (the report does not depend on the working folder)."""
    message = str(exc) or exc.__class__.__name__
    if path is not None:
        message = message.replace(str(path), source)
    environment = isinstance(exc, ModelError) or message.startswith(AUDIO_MISSING)  # not the input's fault
    return {"stage": stage, "type": exc.__class__.__name__, "message": message,
            "retry": not isinstance(exc, TaggerError) or environment}


class Worker:
    """Holds one worker's models (loaded on first use) and runs jobs of both stages."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        if spec.cache_dir:
            os.environ["TAGGER_CACHE"] = spec.cache_dir
        self._pipe: Pipeline | None = None

    @property
    def pipe(self) -> Pipeline:
        if self._pipe is None:
            self._pipe = Pipeline(self.spec.pipeline)
        return self._pipe

    def warm_up(self) -> None:
        """Load the classifier (and build its ONNX graph) before the first job."""
        _ = self.pipe.classifier

    # ------------------------------------------------------------------ stage 1: ASR

    def transcribe(self, job: AsrJob) -> dict[str, Any]:
        try:
            from tagger.audio.options import TranscribeOptions
            from tagger.audio.transcribe import transcribe
        except ImportError as exc:
            return {"index": job.index, "error": error_dict("asr", TaggerError(f"{AUDIO_MISSING} ({exc})"))}
        try:
            if not Path(job.path).is_file():  # a cluster node without the input folder
                raise OSError(f"{job.source}: not readable on this worker ({job.path}); the Ray cluster must see "
                              "the input folder at the same path (shared filesystem)")
            options = TranscribeOptions.from_dict({**self.spec.audio, "session_id": job.session_id,
                                                   "therapist_speaker": job.therapist_speaker})
            session, info = transcribe(job.path, options)
        except Exception as exc:  # one bad recording must not stop the batch
            return {"index": job.index, "error": error_dict("asr", exc, job.path, job.source)}
        return {"index": job.index, "session": session.to_dict(), "info": info.to_dict()}

    # ------------------------------------------------------------------ stage 2: classification

    def classify(self, job: GroupJob) -> dict[str, Any]:
        """Tag every session of the group in one call; if that fails, each input alone, so one bad
        input fails alone (the same fallback, so the same results, in every engine)."""
        members = [(i, [Session.from_dict(d) for d in ds]) for i, ds in job.members]
        items: dict[int, dict[str, Any]] = {}
        try:
            tagged = self._tag([s for _, ss in members for s in ss])
        except ModelError:
            raise  # the model, not an input: stop the run
        except Exception:
            for i, ss in members:
                try:
                    items[i] = {"sessions": self._tag(ss)}
                except ModelError:
                    raise
                except Exception as exc:
                    items[i] = {"error": error_dict("classify", exc)}
        else:
            k = 0
            for i, ss in members:
                items[i] = {"sessions": tagged[k : k + len(ss)]}
                k += len(ss)
        return {"group": job.group, "items": items, "run": self.run_info()}

    def _tag(self, sessions: list[Session]) -> list[dict[str, Any]]:
        if not sessions:
            return []
        results = self.pipe.tag(sessions)
        return [{"session_id": r.session.session_id, "records": [t.to_record() for t in r.tagged]} for r in results]

    def run_info(self) -> dict[str, str]:
        info = self.pipe.run_info
        return {"tagger_version": info.tagger_version, "model_name": info.model_name, "backend": info.backend}
