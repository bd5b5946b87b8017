"""One pipeline for the CLI, the web service and the batch job: transcript -> tagged utterances.

Stages are composed from one :class:`PipelineConfig`; models load lazily, once per Pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import tagger
from tagger.classify.engine import Classifier, EngineOptions
from tagger.io.readers import read_transcript
from tagger.segment import DEFAULT_SPACY_MODEL, Segmenter
from tagger.types import Session, TaggedUtterance

Progress = Callable[[str, int, int], None]  # (stage, done, total)

GROUP_UTTERANCES = 4096  # big enough for full encoder batches, small enough to keep memory flat


@dataclass(frozen=True)
class PipelineConfig:
    model_dir: str | None = None  # None: the shipped model
    base_model: str | None = None  # override where the base encoder is (local directory)
    backend: str = "auto"
    device: str = "auto"
    threads: int | None = None
    evidence_sentences: bool = True  # score long turns per sentence to keep the evidence sentence
    spacy_model: str = DEFAULT_SPACY_MODEL
    segment_min_words: int = 25
    input_format: str | None = None
    therapist_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """Provenance echoed into every output."""

    tagger_version: str
    model_name: str
    model_dir: str
    backend: str


@dataclass(frozen=True)
class SessionResult:
    session: Session
    tagged: tuple[TaggedUtterance, ...]
    run: RunInfo


class Pipeline:
    def __init__(self, config: PipelineConfig = PipelineConfig()) -> None:
        self.config = config

    @cached_property
    def classifier(self) -> Classifier:
        c = self.config
        return Classifier.load(
            c.model_dir,
            base_model=c.base_model,
            options=EngineOptions(backend=c.backend, device=c.device, threads=c.threads),
        )

    @cached_property
    def segmenter(self) -> Segmenter | None:
        c = self.config
        return Segmenter(c.spacy_model, c.segment_min_words) if c.evidence_sentences else None

    @property
    def run_info(self) -> RunInfo:
        clf = self.classifier
        return RunInfo(tagger.__version__, clf.config.name, str(clf.model.artifact_dir), clf.backend_name)

    def read(self, path: str | Path) -> list[Session]:
        return read_transcript(path, fmt=self.config.input_format, therapist=self.config.therapist_names)

    def tag(self, sessions: Sequence[Session], progress: Progress | None = None) -> list[SessionResult]:
        cb = (lambda done, total: progress("classify", done, total)) if progress else None
        tagged = self.classifier.tag_sessions(sessions, cb, self.segmenter)
        info = self.run_info
        return [SessionResult(s, tuple(t), info) for s, t in zip(sessions, tagged, strict=True)]

    def tag_iter(
        self, sessions: Sequence[Session], progress: Progress | None = None, group_utterances: int = GROUP_UTTERANCES
    ) -> Iterator[SessionResult]:
        """Like :meth:`tag`, in groups of whole sessions of about ``group_utterances``: results come
        out in input order as each group is done, so memory does not grow with the input."""
        total = sum(len(s.utterances) for s in sessions)
        done = 0
        for group in session_groups(sessions, group_utterances):
            n = sum(len(s.utterances) for s in group)

            def scaled(stage: str, d: int, t: int, base: int = done, n: int = n) -> None:
                if progress:
                    progress(stage, base + min(n, d * n // max(t, 1)), total)

            yield from self.tag(group, scaled)
            done += n

    def tag_file(self, path: str | Path, progress: Progress | None = None) -> list[SessionResult]:
        return self.tag(self.read(path), progress)


def session_groups(sessions: Sequence[Session], group_utterances: int) -> Iterator[list[Session]]:
    """Consecutive runs of whole sessions holding about ``group_utterances`` utterances each."""
    group: list[Session] = []
    size = 0
    for s in sessions:
        group.append(s)
        size += len(s.utterances)
        if size >= group_utterances:
            yield group
            group, size = [], 0
    if group:
        yield group
