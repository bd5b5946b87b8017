"""``run_batch``: inputs -> per-session outputs, resumably; the local engine (this machine's cores).

The run, whichever engine does the compute:

1. discover the inputs (:mod:`tagger.batch.manifest`) and fingerprint each one;
2. skip the inputs already done (or failed for a reason a re-run cannot change) (:mod:`tagger.batch.state`);
3. stage 1, all ASR: every pending recording -> transcript, cached in the state folder;
4. stage 2, classification: fixed groups of inputs (see :mod:`tagger.batch.work`), each input's
   outputs and then its marker written as soon as its group returns;
5. rebuild the combined dataset, the summary table and the errors report from the per-session files.

The driver (this process) reads transcripts and writes every file; engines only compute. So a
remote Ray cluster never needs the output folder, and all writes are atomic in one place.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from tagger.batch.manifest import Manifest, WorkItem, discover
from tagger.batch.outputs import (
    SESSIONS_DIR,
    read_records,
    session_stem,
    write_combined,
    write_errors,
    write_item_outputs,
    write_note,
)
from tagger.batch.state import BatchState, Marker, fingerprint, model_version
from tagger.batch.work import (
    AsrJob,
    GroupJob,
    Worker,
    WorkerLost,
    WorkerSpec,
    error_dict,
    with_threads,
    worker_layout,
)
from tagger.classify.artifact import DEFAULT_MODEL_DIR, ModelConfig
from tagger.errors import InputError, ModelError, TaggerError
from tagger.io.readers import read_transcript
from tagger.pipeline import PipelineConfig
from tagger.types import Session, Utterance

ENGINES = ("local", "ray")
DEFAULT_GROUP_SIZE = 32


@dataclass(frozen=True)
class BatchOptions:
    """One batch run. ``audio`` holds :class:`tagger.audio.options.TranscribeOptions` fields."""

    input: str
    outdir: Path
    pipeline: PipelineConfig = PipelineConfig()
    audio: dict[str, Any] = field(default_factory=dict)
    engine: str = "local"
    workers: int | None = None  # processes (local) or actors (ray); default: see work.worker_layout
    group_size: int = DEFAULT_GROUP_SIZE
    note: str | None = None  # soap, dap, birp or None
    retry_failed: bool = False
    ray_address: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise InputError(f"unknown engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if self.group_size < 1:
            raise InputError(f"group size must be at least 1, got {self.group_size}")
        if self.workers is not None and self.workers < 1:
            raise InputError(f"workers must be at least 1, got {self.workers}")


@dataclass
class BatchReport:
    """What a run did; ``failed`` counts every input whose final state is failed (this run or an earlier one)."""

    inputs: int = 0
    already_done: int = 0
    tagged: int = 0
    failed: int = 0
    sessions: int = 0
    utterances: int = 0
    ignored: int = 0
    engine: str = "local"
    workers: int = 1
    threads: int = 0  # per worker
    model: str = ""
    model_version: str = ""
    backend: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Engine(Protocol):
    """Runs the jobs of both stages somewhere; yields results as they finish, in any order."""

    name: str
    workers: int
    threads: int  # per worker

    def transcribe(self, jobs: list[AsrJob]) -> Iterator[dict[str, Any]]: ...

    def classify(self, jobs: Iterable[GroupJob], n_jobs: int) -> Iterator[dict[str, Any]]: ...

    def close(self) -> None: ...


# --------------------------------------------------------------------------- the run


def run_batch(options: BatchOptions, engine: Engine | None = None) -> BatchReport:
    """Run (or resume) a batch; see the module docs. Raises :class:`TaggerError` for unusable
    arguments, a missing model or a locked output folder; failed inputs are reported, not raised."""
    t_start = time.perf_counter()
    outdir = options.outdir
    manifest = discover(options.input, exclude=outdir)
    model_dir = Path(options.pipeline.model_dir) if options.pipeline.model_dir else DEFAULT_MODEL_DIR
    if not (model_dir / "config.json").is_file() or not (model_dir / "adapter.safetensors").is_file():
        raise ModelError(f"no model installed at {model_dir} (needs config.json and adapter.safetensors); "
                         "train one with `tagger train` or pass --model DIR")
    model_config = ModelConfig.from_json((model_dir / "config.json").read_text(encoding="utf-8"))
    labels = [*model_config.therapist_labels, *model_config.talk_labels, "risk_indicator"]
    version = model_version(model_dir)
    if options.note:
        try:
            import tagger.note  # noqa: F401
        except ImportError as exc:
            raise InputError(f"--note {options.note} needs the note builder (tagger.note): {exc}") from None
    if any(it.kind == "audio" for it in manifest.items):
        _check_audio_options(options.audio)
    report = BatchReport(inputs=len(manifest.items), ignored=len(manifest.ignored), engine=options.engine,
                         model=model_config.name, model_version=version)
    with BatchState(outdir) as state:
        plan = _Plan(manifest, options, state, version)
        report.already_done = sum(plan.done.values())
        if plan.pending_groups():
            engine = engine or make_engine(options)
            report.workers, report.threads = engine.workers, engine.threads
            try:
                _run_stages(plan, engine, report)
            finally:
                engine.close()
        plan.complete_notes()
        done = [(it, m) for it in manifest.items if (m := plan.markers.get(it.index)) and plan.done[it.index]]
        failed = [(it, m) for it in manifest.items
                  if (m := plan.markers.get(it.index)) and m.status == "failed" and not plan.done[it.index]]
        t0 = time.perf_counter()
        counts = write_combined(outdir, done, labels)
        report.stage_seconds["combine"] = round(time.perf_counter() - t0, 3)
        report.failed = write_errors(outdir / "errors.csv", failed)
        report.sessions, report.utterances = counts["sessions"], counts["utterances"]
        report.seconds = round(time.perf_counter() - t_start, 3)
        _write_run_info(outdir, options, report)
    return report


class _Plan:
    """The inputs, their fingerprints and markers, and the fixed groups they are classified in."""

    def __init__(self, manifest: Manifest, options: BatchOptions, state: BatchState, version: str) -> None:
        self.items = manifest.items
        self.options = options
        self.state = state
        cfg = options.pipeline
        base = {"model": version, "evidence_sentences": cfg.evidence_sentences, "spacy_model": cfg.spacy_model,
                "segment_min_words": cfg.segment_min_words, "format": cfg.input_format,
                "therapist": list(cfg.therapist_names)}
        audio_opts = {k: v for k, v in sorted(options.audio.items()) if k not in ("device", "cpu_threads")}
        self.fp = {it.index: fingerprint(it, {**base, "audio": audio_opts} if it.kind == "audio" else base)
                   for it in self.items}
        self.markers: dict[int, Marker] = {}
        for it in self.items:
            m = state.marker(it.name)
            if m is not None:
                self.markers[it.index] = m
        self.done = {it.index: state.is_done(self.markers.get(it.index), self.fp[it.index]) for it in self.items}
        self.settled = {it.index: state.is_settled(self.markers.get(it.index), self.fp[it.index], options.retry_failed)
                        for it in self.items}
        for it in self.items:  # a file that cannot be read at all fails now
            if it.problem and not self.settled[it.index]:
                self.fail(it, {"stage": "read", "type": "InputError", "message": it.problem, "retry": False})
        self.owner = {s["output"]: i for i, m in self.markers.items() if self.done[i] for s in m.sessions}
        g = options.group_size
        self.groups = [self.items[k : k + g] for k in range(0, len(self.items), g)]

    def pending_groups(self) -> list[tuple[int, tuple[WorkItem, ...]]]:
        return [(k, grp) for k, grp in enumerate(self.groups) if any(not self.settled[it.index] for it in grp)]

    def pending(self, grp: Iterable[WorkItem]) -> list[WorkItem]:
        return [it for it in grp if not self.settled[it.index]]

    def fail(self, item: WorkItem, error: dict[str, Any]) -> None:
        err = {k: str(v) for k, v in error.items() if k != "retry"}
        m = Marker(item.name, item.source, self.fp[item.index], "failed", error=err, retry=bool(error.get("retry")))
        self.state.write_marker(m)
        self.state.remove_stale_outputs(self.markers.get(item.index), set())  # of an earlier version of the input
        self.markers[item.index] = m
        self.settled[item.index] = True  # for this run; a retryable failure is tried again next run
        self.done[item.index] = False

    def finish(self, item: WorkItem, sessions: list[dict[str, Any]], model_name: str) -> bool:
        """Write the input's outputs, then its marker; ``False`` if it failed instead."""
        for s in sessions:  # `a.csv` holding session `b` and a file `a__b.csv` would share an output name
            out = f"{SESSIONS_DIR}/{session_stem(item, s['session_id'], len(sessions))}.jsonl"
            other = self.owner.get(out)
            if other is not None and other != item.index:
                self.fail(item, {"stage": "write", "type": "InputError", "retry": False,
                                 "message": f"{item.source}: its output {out} is already the output of "
                                            f"{self.items[other].source}; rename one of the two files"})
                return False
        entries = write_item_outputs(self.state.outdir, item, sessions, note_format=self.options.note,
                                     model_name=model_name)
        m = Marker(item.name, item.source, self.fp[item.index], "done", tuple(entries))
        self.state.remove_stale_outputs(self.markers.get(item.index), set(m.outputs()))
        self.state.write_marker(m)  # last: the input counts as done only once every output is in place
        self.markers[item.index] = m
        self.settled[item.index] = self.done[item.index] = True
        self.owner.update((s["output"], item.index) for s in entries)
        return True

    def sessions_of(self, item: WorkItem) -> list[Session] | None:
        """The input's sessions for classification; ``None`` (and a failed marker if it was pending)
        when it cannot be read or its recording has no transcript."""
        if item.problem or (self.settled[item.index] and not self.done[item.index]):
            return None
        if item.kind == "audio":
            cached = self.state.asr_result(self.fp[item.index])
            return [Session.from_dict(cached["session"])] if cached and "session" in cached else None
        try:
            return read_item(item, self.options.pipeline)
        except TaggerError as exc:
            if not self.done[item.index]:
                self.fail(item, error_dict("read", exc, item.path, item.source))
            return None

    def group_job(self, k: int, grp: tuple[WorkItem, ...]) -> GroupJob | None:
        members = []
        for it in grp:
            sessions = self.sessions_of(it)
            if sessions is not None:
                members.append((it.index, tuple(s.to_dict() for s in sessions)))
        if not any(not self.settled[i] for i, _ in members):
            return None  # every pending input of the group failed to read
        return GroupJob(k, tuple(members))

    def complete_notes(self) -> None:
        """Draft the notes a done input lacks (asked for now, not in the run that tagged it)."""
        if not self.options.note:
            return
        for it in self.items:
            m = self.markers.get(it.index)
            if not (m and self.done[it.index]) or all(s.get("note", "").endswith(f".{self.options.note}.md")
                                                       for s in m.sessions):
                continue
            sessions = []
            for s in m.sessions:
                s = dict(s)
                if not str(s.get("note", "")).endswith(f".{self.options.note}.md"):
                    stem = session_stem(it, s["session_id"], len(m.sessions))
                    s["note"] = write_note(self.state.outdir, stem, read_records(self.state.outdir / s["output"]),
                                           self.options.note, it.source, None)
                sessions.append(s)
            m = replace(m, sessions=tuple(sessions))
            self.state.write_marker(m)
            self.markers[it.index] = m


def _check_audio_options(audio: dict[str, Any]) -> None:
    """Bad audio options are the user's to fix before the run, not an error of every recording."""
    try:
        from tagger.audio.options import TranscribeOptions
    except ImportError:
        return  # each recording is reported as needing audio support
    TranscribeOptions.from_dict(audio)


def read_item(item: WorkItem, cfg: PipelineConfig) -> list[Session]:
    """A transcript input's sessions, with the manifest's reader options and session id."""
    sessions = read_transcript(item.path, fmt=item.input_format or cfg.input_format,
                               therapist=item.therapist or cfg.therapist_names)
    if item.session_id:
        if len(sessions) != 1:
            raise InputError(f"{item.source}: the manifest gives session_id {item.session_id!r} but the file holds "
                             f"{len(sessions)} sessions")
        s = sessions[0]
        utts = tuple(Utterance(**{**u.to_dict(), "session_id": item.session_id}) for u in s.utterances)
        sessions = [Session(item.session_id, utts, s.source, s.metadata)]
    return sessions


def _run_stages(plan: _Plan, engine: Engine, report: BatchReport) -> None:
    from tqdm import tqdm

    groups = plan.pending_groups()
    show = plan.options.progress and sys.stderr.isatty()
    # stage 1: every pending recording through ASR before any classification
    t0 = time.perf_counter()
    asr_jobs = [
        AsrJob(it.index, str(it.path.resolve()), it.source, it.session_id, it.therapist_speaker)
        for _, grp in groups for it in plan.pending(grp)
        if it.kind == "audio" and not it.problem and plan.state.asr_result(plan.fp[it.index]) is None
    ]
    if asr_jobs:
        by_index = {it.index: it for it in plan.items}
        n_failed = 0
        with tqdm(total=len(asr_jobs), desc="asr", unit="file", disable=not show, file=sys.stderr) as bar:
            for res in engine.transcribe(asr_jobs):
                it = by_index[res["index"]]
                if "error" in res:
                    plan.fail(it, res["error"])
                    n_failed += 1
                else:
                    plan.state.write_asr_result(plan.fp[it.index], res)
                bar.update()
                bar.set_postfix(failed=n_failed)
        report.stage_seconds["asr"] = round(time.perf_counter() - t0, 3)
    # stage 2: classification in fixed groups
    t0 = time.perf_counter()
    total = sum(len(plan.pending(grp)) for _, grp in groups)
    pending_of = {k: plan.pending(grp) for k, grp in groups}

    def jobs() -> Iterator[GroupJob]:
        for k, grp in groups:
            job = plan.group_job(k, grp)
            if job is None:
                bar.update(len(pending_of[k]))
            else:
                yield job

    with tqdm(total=total, desc="tag", unit="file", disable=not show, file=sys.stderr) as bar:
        for res in engine.classify(jobs(), len(groups)):
            report.backend = res["run"]["backend"]
            for it in pending_of[res["group"]]:
                out = res["items"].get(it.index) if it.index in res["items"] else None
                if plan.settled[it.index]:
                    pass  # failed to read while the job was built
                elif out is None:
                    plan.fail(it, {"stage": "classify", "type": "RuntimeError", "retry": True,
                                   "message": "the engine returned no result for this input"})
                elif "error" in out:
                    plan.fail(it, out["error"])
                elif plan.finish(it, out["sessions"], res["run"]["model_name"]):
                    report.tagged += 1
                bar.update()
            bar.set_postfix(failed=sum(1 for it in plan.items if plan.markers.get(it.index)
                                       and plan.markers[it.index].status == "failed" and not plan.done[it.index]))
    report.stage_seconds["classify"] = round(time.perf_counter() - t0, 3)


def _write_run_info(outdir: Path, options: BatchOptions, report: BatchReport) -> None:
    from tagger.io.writers import atomic_writer

    info = {"input": options.input, "engine": options.engine, "group_size": options.group_size,
            "note": options.note, "pipeline": asdict(options.pipeline), "audio": options.audio, **report.to_dict()}
    with atomic_writer(outdir / "run.json") as fh:
        fh.write(json.dumps(info, indent=2, default=str) + "\n")


# --------------------------------------------------------------------------- engines


def make_engine(options: BatchOptions) -> Engine:
    spec = WorkerSpec(options.pipeline, options.audio, os.environ.get("TAGGER_CACHE"))
    if options.engine == "ray":
        from tagger.batch.ray_engine import RayEngine

        return RayEngine(spec, options.workers, options.ray_address)
    return LocalEngine(spec, options.workers)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class LocalEngine:
    """This machine: one worker in this process, or several processes, each loading the models once.

    By default one worker per 4 cores (:func:`~tagger.batch.work.worker_layout`): on up to 4 cores
    that is this process alone, using every core, which measured faster than two processes on
    2 cores (the models and the work queue are shared, no second copy of the model competes for
    the same cores; eval/bench/RESULTS.md)."""

    name = "local"

    def __init__(self, spec: WorkerSpec, workers: int | None = None) -> None:
        self.workers, self.threads = worker_layout(_cores(), workers, spec.pipeline.threads)
        self.spec = with_threads(spec, self.threads)
        self._worker: Worker | None = None
        self._pool: ProcessPoolExecutor | None = None

    def _local(self) -> Worker:
        if self._worker is None:
            self._worker = Worker(self.spec)
        return self._worker

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_init_process, initargs=(self.spec,))
        return self._pool

    def transcribe(self, jobs: list[AsrJob]) -> Iterator[dict[str, Any]]:
        if self.workers == 1:
            yield from (self._local().transcribe(j) for j in jobs)
        else:
            yield from _bounded(self._executor(), _process_transcribe, jobs, 2 * self.workers)

    def classify(self, jobs: Iterable[GroupJob], n_jobs: int) -> Iterator[dict[str, Any]]:
        if self.workers == 1:
            worker = self._local()
            worker.warm_up()  # a model that cannot load stops the run here, before any input is marked
            yield from (worker.classify(j) for j in jobs)
        else:
            yield from _bounded(self._executor(), _process_classify, jobs, 2 * self.workers)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def _bounded(pool: ProcessPoolExecutor, fn: Any, jobs: Iterable[Any], limit: int) -> Iterator[dict[str, Any]]:
    """Submit at most ``limit`` jobs ahead (memory stays flat); yield results as they complete."""
    it = iter(jobs)
    running: set[Future] = set()
    while True:
        while len(running) < limit:
            job = next(it, None)
            if job is None:
                break
            running.add(pool.submit(fn, job))
        if not running:
            return
        finished, running = wait(running, return_when=FIRST_COMPLETED)
        for f in finished:
            try:
                yield f.result()
            except BrokenProcessPool:
                raise WorkerLost("a worker process died (killed, or out of memory: try fewer --workers); "
                                 "finished inputs are saved: run the same command again to resume") from None


_PROCESS_WORKER: Worker | None = None


def _init_process(spec: WorkerSpec) -> None:
    global _PROCESS_WORKER
    _PROCESS_WORKER = Worker(spec)


def _process_transcribe(job: AsrJob) -> dict[str, Any]:
    assert _PROCESS_WORKER is not None
    return _PROCESS_WORKER.transcribe(job)


def _process_classify(job: GroupJob) -> dict[str, Any]:
    assert _PROCESS_WORKER is not None
    return _PROCESS_WORKER.classify(job)
