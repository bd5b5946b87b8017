"""The Ray engine: each stage is a Ray Data ``map_batches`` over an actor pool.

Stage 1 (ASR) and stage 2 (classification) are separate datasets, run one after the other
(stage-major: the ASR actors are gone before the classifier actors start, so each stage can
have the whole cluster, GPUs included). An actor loads its models once, in its constructor;
one row is one job (a recording, or a fixed group of inputs: see :mod:`tagger.batch.work`), so
Ray's own batching never changes which sessions are classified together, and the results equal
the local engine's. When the cluster has GPUs, every actor takes one.

The driver keeps the file I/O: it reads the transcripts, sends them in the rows, and writes every
output, so the output folder is never needed on the cluster. With ``--ray-address`` the nodes need
``tagger`` and the model installed at the same paths, and, for recordings only, the input folder
(a shared filesystem): the ASR actors read the audio files themselves.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from tagger.batch.work import AsrJob, GroupJob, Worker, WorkerLost, WorkerSpec, with_threads, worker_layout
from tagger.errors import InputError, ModelError


class _Udf:
    """A Ray Data callable class: one :class:`Worker` per actor, jobs in, results out (pickled).
    Subclassed per stage with ``spec`` and ``stage`` as class attributes (in :meth:`RayEngine._run`),
    so the actor has no constructor arguments of ours for Ray to keep in its object store."""

    spec: WorkerSpec
    stage: str

    def __init__(self) -> None:
        self.worker = Worker(self.spec)
        if self.stage == "classify":
            self.worker.warm_up()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        run = self.worker.classify if self.stage == "classify" else self.worker.transcribe
        out = [pickle.dumps(run(pickle.loads(job))) for job in batch["job"]]
        return {"result": np.array(out, dtype=object)}


class RayEngine:
    """Ray Data actor pools on a local cluster (started here, stopped at :meth:`close`) or ``address``."""

    name = "ray"

    def __init__(self, spec: WorkerSpec, workers: int | None = None, address: str | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise InputError(f"--engine ray needs Ray Data: pip install 'ray[data]' ({exc})") from None
        self._started = not ray.is_initialized()
        if self._started:
            # Ray's own notices (token auth, actor-restart caveats of Ray Data's internal actors) would
            # interleave with the progress bar; failures still surface as exceptions.
            os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=True,
                     logging_level=logging.ERROR)
        import ray.data

        logging.getLogger("ray.data").setLevel(logging.ERROR)
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the batch command has its own
        ctx.print_on_execution_start = False
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        if self.gpus:  # one GPU per actor; the CPU side of a GPU actor needs little
            self.workers, self.threads = workers or self.gpus, spec.pipeline.threads or 1
        else:  # the local engine's rule, so a local cluster gives the local engine's outputs
            self.workers, self.threads = worker_layout(cpus, workers, spec.pipeline.threads)
        self.cpus_per_actor = min(self.threads, cpus)
        self.spec = with_threads(spec, self.threads)

    def _run(self, stage: str, jobs: list[Any]) -> Iterator[dict[str, Any]]:
        import ray.data

        if not jobs:
            return
        items = ray.data.from_items([{"job": pickle.dumps(j)} for j in jobs], override_num_blocks=len(jobs))
        ds = items.map_batches(
            type(f"Tagger{stage.title()}", (_Udf,), {"spec": self.spec, "stage": stage}),
            batch_size=1, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(jobs))),
            num_cpus=self.cpus_per_actor, num_gpus=1 if self.gpus else 0,
        )
        try:
            for row in ds.iter_rows():
                yield pickle.loads(row["result"])
        except Exception as exc:
            cause = _model_error(exc)
            if cause is not None:
                raise ModelError(cause) from None
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            raise WorkerLost(f"the Ray {stage} stage stopped ({type(exc).__name__}: {first}); finished inputs are "
                             "saved: run the same command again to resume") from exc

    def transcribe(self, jobs: list[AsrJob]) -> Iterator[dict[str, Any]]:
        yield from self._run("asr", jobs)

    def classify(self, jobs: Iterable[GroupJob], n_jobs: int) -> Iterator[dict[str, Any]]:
        yield from self._run("classify", list(jobs))

    def close(self) -> None:
        import ray

        if self._started and ray.is_initialized():
            ray.shutdown()


def _model_error(exc: BaseException) -> str | None:
    """The message of a :class:`ModelError` raised inside an actor, however Ray wrapped it."""
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, ModelError):
            return str(e).splitlines()[-1] if "\n" in str(e) else str(e)
        e = e.__cause__ or e.__context__ or getattr(e, "cause", None)
    text = str(exc)
    marker = "ModelError: "
    if marker in text:
        return text.rsplit(marker, 1)[1].strip().splitlines()[0]
    return None

