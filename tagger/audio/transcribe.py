"""Recording -> role-attributed, timestamped transcript (:class:`tagger.types.Session`).

Stage-major: decode the whole file, run ASR and free the model, then diarize and free the voice
encoder, then assign roles. Each stage reports progress through one callback
``progress(stage, fraction)``; the result carries its own provenance
(:class:`TranscriptionInfo`: options used, durations, speakers, role confidence, warnings).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tagger.audio.asr import AsrResult, Word, transcribe_words
from tagger.audio.decode import decode_audio
from tagger.audio.diarize import Diarization, channels_look_split, diarize_channels, diarize_voices
from tagger.audio.embed import SpeakerEncoder
from tagger.audio.options import TranscribeOptions
from tagger.audio.roles import RoleAssignment, RoleModel, assign_roles
from tagger.errors import AudioError, InputError
from tagger.types import Session, Utterance

logger = logging.getLogger(__name__)

Progress = Callable[[str, float], None]
STAGES = ("decode", "asr", "diarize", "roles")
#: A same-speaker pause longer than this starts a new utterance.
MAX_TURN_GAP = 3.0
#: Under this many recognized words per minute of detected speech, the "speech" is likely music or noise.
MIN_WORDS_PER_SPEECH_MINUTE = 20


@dataclass(frozen=True)
class SpeakerInfo:
    """One detected speaker: label, role, P(therapist) and confidence in the assigned role."""

    label: str
    role: str
    therapist_probability: float
    confidence: float
    speech_seconds: float
    words: int
    channel: int | None = None


@dataclass(frozen=True)
class TranscriptionInfo:
    """Provenance of a transcription: what was run, on what, and how sure the roles are."""

    source: str
    duration: float
    speech_duration: float
    asr_model: str
    asr_model_path: str
    device: str
    compute_type: str
    language: str
    batched: bool
    diarization: str  # "voice", "channels" or "single"
    num_speakers: int
    speakers: tuple[SpeakerInfo, ...]
    therapist_speaker: str
    role_source: str  # "model", "override" or "single-speaker"
    role_confidence: float
    options: TranscribeOptions
    timings: tuple[tuple[str, float], ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["speakers"] = [asdict(s) for s in self.speakers]
        d["options"] = self.options.to_dict()
        d["timings"] = dict(self.timings)
        d["warnings"] = list(self.warnings)
        return d


def transcribe(
    path: str | Path,
    options: TranscribeOptions | None = None,
    *,
    progress: Progress | None = None,
) -> tuple[Session, TranscriptionInfo]:
    """Transcribe a recording into a :class:`Session` with speaker roles, plus its provenance.

    Raises :class:`tagger.errors.AudioError` for files without decodable speech,
    :class:`tagger.errors.InputError` for bad paths or options and
    :class:`tagger.errors.ModelError` for missing models.
    """
    options = options or TranscribeOptions()
    report = progress or (lambda stage, fraction: None)
    p = Path(path)
    timings: list[tuple[str, float]] = []
    warnings: list[str] = []

    t0 = time.perf_counter()
    report("decode", 0.0)
    decoded = decode_audio(p, keep_stereo=options.channels != "mix")
    warnings.extend(decoded.warnings)
    split = _use_channels(decoded.channels, options, decoded.samples)
    mono = decoded.mono()
    report("decode", 1.0)
    timings.append(("decode", time.perf_counter() - t0))

    t0 = time.perf_counter()
    report("asr", 0.0)
    asr = transcribe_words(mono, options, progress=lambda f: report("asr", f))
    timings.append(("asr", time.perf_counter() - t0))
    words = list(asr.words)
    _check_speech(p, decoded.duration, asr, warnings)

    t0 = time.perf_counter()
    report("diarize", 0.0)
    if split:
        diar = diarize_channels(decoded.samples, words)
    else:
        diar = diarize_voices(
            mono,
            words,
            speaker_range=options.speaker_range,
            encoder=SpeakerEncoder(device=_torch_device(asr.device)),
            progress=lambda f: report("diarize", f),
        )
    del decoded, mono  # the audio is no longer needed
    warnings.extend(diar.warnings)
    report("diarize", 1.0)
    timings.append(("diarize", time.perf_counter() - t0))

    t0 = time.perf_counter()
    report("roles", 0.0)
    turns = build_turns(words, diar)
    labels = sorted({lab for lab, _ in turns}, key=_label_index)
    texts = {lab: [_text(ws) for l2, ws in turns if l2 == lab] for lab in labels}
    therapist = _normalize_label(options.therapist_speaker, labels)
    if therapist is not None:
        roles = assign_roles(dict.fromkeys(labels, 0.0), 1.0, therapist=therapist)
    else:
        roles = RoleModel.load(options.role_model).assign(texts)
    if roles.source == "model" and roles.overall_confidence < 0.8:
        warnings.append(
            f"unsure which speaker is the therapist (confidence {roles.overall_confidence:.2f}); "
            "check the roles or pass --therapist-speaker"
        )
    report("roles", 1.0)
    timings.append(("roles", time.perf_counter() - t0))

    session_id = options.session_id or _session_id(p)
    utterances = tuple(
        Utterance(
            session_id=session_id,
            utterance_id=str(i),
            speaker=roles.roles[lab],  # type: ignore[arg-type]
            text=_text(ws),
            speaker_label=lab,
            start=round(ws[0].start, 2),
            end=round(max(ws[-1].end, ws[0].start), 2),
        )
        for i, (lab, ws) in enumerate(turns)
    )
    for w in warnings:
        logger.warning(w)
    info = _info(p, asr, diar, roles, turns, options, timings, warnings, split)
    meta = (("audio_duration", f"{asr.duration:.2f}"), ("therapist_speaker", roles.therapist))
    return Session(session_id, utterances, source=str(p), metadata=meta), info


def build_turns(words: list[Word], diar: Diarization) -> list[tuple[str, list[Word]]]:
    """Group consecutive words of one speaker into turns (a long pause also ends a turn)."""
    turns: list[tuple[str, list[Word]]] = []
    for w, spk in zip(words, diar.word_speakers, strict=True):
        label = f"SPEAKER_{spk}"
        if turns and turns[-1][0] == label and w.start - turns[-1][1][-1].end <= MAX_TURN_GAP:
            turns[-1][1].append(w)
        else:
            turns.append((label, [w]))
    return turns


def _use_channels(channels: int, options: TranscribeOptions, samples) -> bool:
    if options.channels == "split":
        if channels != 2:
            raise InputError(
                "--channels split needs a stereo recording with one speaker per channel, but this file has "
                f"{channels} channel(s); use --channels mix"
            )
        return True
    return options.channels == "auto" and channels == 2 and channels_look_split(samples)


def _check_speech(path: Path, duration: float, asr: AsrResult, warnings: list[str]) -> None:
    n_words = len(asr.words)
    if n_words == 0:
        raise AudioError(
            f"no speech found in {path} ({duration:.1f} s of audio, {asr.speech_duration:.1f} s passed voice "
            "detection); it may be music, noise or silence. Check the file, or the input level of the recording"
        )
    minutes = max(asr.speech_duration, 1.0) / 60
    if n_words / minutes < MIN_WORDS_PER_SPEECH_MINUTE and n_words < 10:
        raise AudioError(
            f"almost no speech recognized in {path}: {n_words} word(s) in {asr.speech_duration:.1f} s of "
            "sound that passed voice detection; it looks like music or noise rather than a conversation"
        )
    if n_words / minutes < MIN_WORDS_PER_SPEECH_MINUTE:
        warnings.append(
            f"little speech recognized ({n_words} words in {asr.speech_duration:.0f} s of detected sound); "
            "parts of the recording may be music or noise"
        )


def _info(path, asr, diar, roles: RoleAssignment, turns, options, timings, warnings, split) -> TranscriptionInfo:
    speakers = []
    labels = sorted({lab for lab, _ in turns}, key=_label_index)
    for lab in labels:
        ws = [w for l2, t in turns if l2 == lab for w in t]
        speakers.append(
            SpeakerInfo(
                label=lab,
                role=roles.roles[lab],
                therapist_probability=round(float(roles.therapist_probability.get(lab, 0.0)), 4),
                confidence=round(float(roles.confidence[lab]), 4),
                speech_seconds=round(sum(w.end - w.start for w in ws), 2),
                words=len(ws),
                channel=_label_index(lab) if split else None,
            )
        )
    return TranscriptionInfo(
        source=str(path),
        duration=round(asr.duration, 3),
        speech_duration=round(asr.speech_duration, 3),
        asr_model=asr.model.name,
        asr_model_path=asr.model.path,
        device=asr.device,
        compute_type=asr.compute_type,
        language=asr.language,
        batched=asr.batched,
        diarization=diar.method,
        num_speakers=len(labels),
        speakers=tuple(speakers),
        therapist_speaker=roles.therapist,
        role_source=roles.source,
        role_confidence=round(roles.overall_confidence, 4),
        options=options,
        timings=tuple((k, round(v, 3)) for k, v in timings),
        warnings=tuple(warnings),
    )


def _torch_device(asr_device: str) -> str:
    """The voice encoder follows the ASR onto the GPU when torch can use it too."""
    if asr_device != "cuda":
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _normalize_label(label: str | None, labels: list[str]) -> str | None:
    """Accept ``SPEAKER_1``, ``speaker_1`` or ``1``; error if no such speaker was found."""
    if label is None:
        return None
    m = re.fullmatch(r"(?:speaker[_ -]?)?(\d+)", label.strip(), flags=re.IGNORECASE)
    norm = f"SPEAKER_{m.group(1)}" if m else label.strip()
    if norm not in labels:
        raise InputError(
            f"--therapist-speaker {label!r} is not among the detected speakers ({', '.join(labels)}); "
            "run without it first to see the labels"
        )
    return norm


def _label_index(label: str) -> int:
    return int(label.rsplit("_", 1)[1])


def _text(words: list[Word]) -> str:
    return re.sub(r"\s+", " ", "".join(w.text for w in words)).strip()


def _session_id(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem) or "session"
