"""One session through the library: recording or transcript -> tagged utterances -> drafted note.

The same calls as ``tagger run`` (``tagger.audio.transcribe``, ``Pipeline.read``/``tag``,
``tagger.note.build_note``); models are loaded once per process and shared by the worker threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from tagger.note import Note, build_note
from tagger.pipeline import Pipeline, PipelineConfig
from tagger.types import TaggedUtterance

#: (stage, overall fraction 0..1)
Report = Callable[[str, float], None]

# Share of the whole run each stage takes, to show one progress bar (audio runs spend most time in ASR).
_AUDIO_SPANS = {"decode": (0.0, 0.05), "asr": (0.05, 0.55), "diarize": (0.55, 0.7), "roles": (0.7, 0.75),
                "classify": (0.75, 0.95)}
_TEXT_SPANS = {"read": (0.0, 0.05), "classify": (0.05, 0.9)}


@dataclass(frozen=True)
class Processed:
    tagged: tuple[TaggedUtterance, ...]
    note: Note
    warnings: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Request:
    """What to do with one uploaded file."""

    path: Path
    kind: str  # "audio" or "transcript"
    title: str
    note_format: str = "soap"
    deidentify: bool = False
    therapist: tuple[str, ...] = ()


class Processor:
    """Runs requests; thread-safe (the classifier and the de-identifier are used by one thread at a time)."""

    def __init__(self, config: PipelineConfig) -> None:
        self.pipeline = Pipeline(config)
        self._model_lock = threading.Lock()

    @cached_property
    def _deidentifier(self):  # -> tagger.note.deid.Deidentifier, loaded on first use
        from tagger.note.deid import Deidentifier

        return Deidentifier(self.pipeline.config.spacy_model)

    def warm_up(self) -> None:
        """Load the classifier now rather than on the first job."""
        with self._model_lock:
            _ = self.pipeline.classifier

    def run(self, req: Request, report: Report) -> Processed:
        spans = _AUDIO_SPANS if req.kind == "audio" else _TEXT_SPANS

        def stage(name: str, fraction: float) -> None:
            lo, hi = spans.get(name, (0.0, 0.0))
            report(name, lo + (hi - lo) * min(max(fraction, 0.0), 1.0))

        info: dict[str, Any] = {"upload": req.kind}
        warnings: tuple[str, ...] = ()
        if req.kind == "audio":
            from tagger.audio.options import TranscribeOptions
            from tagger.audio.transcribe import transcribe

            options = TranscribeOptions(device=self.pipeline.config.device, session_id=Path(req.title).stem)
            session, tinfo = transcribe(req.path, options, progress=stage)
            info["transcription"] = tinfo.to_dict()
            warnings = tuple(tinfo.warnings)
        else:
            from tagger.io.readers import read_transcript

            stage("read", 0.0)
            session = read_transcript(req.path, therapist=req.therapist)[0]  # checked at upload: one session
        with self._model_lock:
            result = self.pipeline.tag([session], lambda _s, done, total: stage("classify", done / max(total, 1)))[0]
            tagged = list(result.tagged)
            if req.deidentify:
                report("deidentify", 0.95)
                tagged = self._deidentifier.deidentify(tagged)
        report("note", 0.97)
        model = f"{result.run.model_name} ({result.run.backend})"
        note = build_note(tagged, req.note_format, source=None if req.deidentify else req.title, model=model,
                          deidentified=req.deidentify)
        info["run"] = dict(result.run.__dict__)
        return Processed(tuple(tagged), note, warnings, info)
