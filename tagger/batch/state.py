"""What a batch has done, kept in the output folder so a re-run resumes where the last one stopped.

Layout of ``OUTDIR/.tagger-batch/``::

    lock               held (flock) while a run writes here; a killed run releases it
    items/<key>.json   one marker per input: its fingerprint, status (done / failed) and outputs
    asr/<fp>.json      the transcript of a recording (stage 1 result, so a resume skips its ASR)

An input is *done* when its marker carries the input's current fingerprint (content sha256 +
model version + the options that change the output) and its outputs exist. A marker is written
after the outputs it lists, each file atomically (temporary file + rename), so a run killed at
any moment leaves every input either done or not started: never half an output, never a duplicate.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagger.batch.manifest import WorkItem
from tagger.errors import InputError
from tagger.io.writers import atomic_writer

STATE_DIR = ".tagger-batch"
STATE_FORMAT = 1


def model_version(model_dir: Path) -> str:
    """The model's version key: sha256 of its adapter weights and config (a new model re-annotates)."""
    h = hashlib.sha256()
    for name in ("adapter.safetensors", "config.json"):
        h.update((model_dir / name).read_bytes())
    return h.hexdigest()[:16]


def fingerprint(item: WorkItem, run_key: dict[str, Any]) -> str:
    """Identity of one input's result: its content, the model version and the options that change it."""
    blob = json.dumps({"v": STATE_FORMAT, "sha256": item.sha256 or f"unreadable:{item.source}", "kind": item.kind,
                       "item": item.options(), "run": run_key}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Marker:
    """The state of one input: ``done`` with its session outputs, or ``failed`` with the reason."""

    name: str
    source: str
    fingerprint: str
    status: str  # "done" or "failed"
    sessions: tuple[dict[str, Any], ...] = ()  # session_id, output, note, utterances
    error: dict[str, str] = field(default_factory=dict)  # stage, type, message
    retry: bool = False  # a failure that may pass next time (not an error in the input itself)

    def outputs(self) -> list[str]:
        return [p for s in self.sessions for p in (s.get("output"), s.get("note")) if p]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "fingerprint": self.fingerprint, "status": self.status,
                "sessions": list(self.sessions), "error": self.error, "retry": self.retry}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Marker:
        return cls(d["name"], d["source"], d["fingerprint"], d["status"], tuple(d.get("sessions") or ()),
                   dict(d.get("error") or {}), bool(d.get("retry", False)))


class BatchState:
    """The output folder of a batch: locking, markers, the ASR cache and stale-file cleanup."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.root = outdir / STATE_DIR
        self._lock_fh: Any = None

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> BatchState:
        """Take the folder's lock (one run at a time) and remove temporary files a killed run left."""
        (self.root / "items").mkdir(parents=True, exist_ok=True)
        (self.root / "asr").mkdir(exist_ok=True)
        fh = (self.root / "lock").open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise InputError(f"{self.outdir}: another `tagger batch` run is writing to this folder; wait for it "
                             "to finish or choose another output folder") from None
        self._lock_fh = fh
        self.remove_partial_files()
        return self

    def close(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> BatchState:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def remove_partial_files(self) -> int:
        """Delete the ``.NAME.XXXX.part`` files of writes a killed run never finished."""
        n = 0
        for dirpath, _, files in os.walk(self.outdir):
            for f in files:
                if f.startswith(".") and f.endswith(".part"):
                    Path(dirpath, f).unlink(missing_ok=True)
                    n += 1
        return n

    # ------------------------------------------------------------------ markers

    def _marker_path(self, name: str) -> Path:
        return self.root / "items" / f"{hashlib.sha1(name.encode()).hexdigest()[:20]}.json"

    def marker(self, name: str) -> Marker | None:
        p = self._marker_path(name)
        try:
            return Marker.from_dict(json.loads(p.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):  # unreadable marker: treat the input as not done
            return None

    def write_marker(self, m: Marker) -> None:
        with atomic_writer(self._marker_path(m.name)) as fh:
            fh.write(json.dumps(m.to_dict(), indent=1, ensure_ascii=False) + "\n")

    def is_done(self, m: Marker | None, fp: str) -> bool:
        return (m is not None and m.status == "done" and m.fingerprint == fp
                and all((self.outdir / p).is_file() for p in m.outputs()))

    def is_settled(self, m: Marker | None, fp: str, retry_failed: bool) -> bool:
        """Done, or failed for a reason that does not change on a re-run (unless ``retry_failed``)."""
        if self.is_done(m, fp):
            return True
        return (m is not None and m.status == "failed" and m.fingerprint == fp
                and not m.retry and not retry_failed)

    def remove_stale_outputs(self, old: Marker | None, keep: set[str]) -> None:
        """Delete outputs an input's previous result listed that its new result does not (content changed)."""
        if old is None:
            return
        for rel in old.outputs():
            if rel not in keep:
                (self.outdir / rel).unlink(missing_ok=True)

    # ------------------------------------------------------------------ ASR cache

    def _asr_path(self, fp: str) -> Path:
        return self.root / "asr" / f"{fp}.json"

    def asr_result(self, fp: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._asr_path(fp).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None

    def write_asr_result(self, fp: str, result: dict[str, Any]) -> None:
        with atomic_writer(self._asr_path(fp)) as fh:
            fh.write(json.dumps(result, ensure_ascii=False) + "\n")

    def markers(self, names: list[str]) -> Iterator[tuple[str, Marker | None]]:
        for n in names:
            yield n, self.marker(n)
