"""Options of the audio stage (ASR + diarization + roles), validated on construction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from tagger.errors import InputError

ChannelMode = Literal["auto", "mix", "split"]
CHANNEL_MODES: tuple[str, ...] = ("auto", "mix", "split")
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TranscribeOptions:
    """How to turn a recording into a role-attributed transcript.

    ``asr_model``: a local CTranslate2 Whisper model directory or a size name (``tiny.en``,
    ``small``, ...); ``None`` is the bundled offline ``tiny.en``. ``compute_type`` ``None`` means
    int8 on CPU and float16 on CUDA. ``batched`` uses faster-whisper's batched pipeline (faster on
    GPU, but it was seen to drop words at chunk boundaries; off by default). ``num_speakers`` fixes
    the speaker count, else it is chosen between ``min_speakers`` and ``max_speakers``.
    ``channels``: ``split`` treats each channel of a stereo file as one speaker, ``mix`` diarizes
    the downmix by voice, ``auto`` picks ``split`` when the two channels hold clearly different
    speakers. ``therapist_speaker`` (e.g. ``SPEAKER_1``) overrides the role model.
    """

    asr_model: str | None = None
    device: str = "auto"
    compute_type: str | None = None
    cpu_threads: int = 0
    beam_size: int = 5
    language: str | None = "en"
    vad: bool = True
    batched: bool = False
    batch_size: int = 8
    num_speakers: int | None = None
    min_speakers: int = 2
    max_speakers: int = 4
    channels: ChannelMode = "auto"
    therapist_speaker: str | None = None
    role_model: str | None = None
    session_id: str | None = None

    def __post_init__(self) -> None:
        if self.device not in DEVICES:
            raise InputError(f"device must be one of {', '.join(DEVICES)}, got {self.device!r}")
        if self.channels not in CHANNEL_MODES:
            raise InputError(f"channels must be one of {', '.join(CHANNEL_MODES)}, got {self.channels!r}")
        if self.beam_size < 1:
            raise InputError(f"beam size must be at least 1, got {self.beam_size}")
        if self.batch_size < 1:
            raise InputError(f"batch size must be at least 1, got {self.batch_size}")
        if self.cpu_threads < 0:
            raise InputError(f"cpu threads must be 0 (automatic) or more, got {self.cpu_threads}")
        if self.num_speakers is not None and not 1 <= self.num_speakers <= 10:
            raise InputError(f"number of speakers must be between 1 and 10, got {self.num_speakers}")
        if not 1 <= self.min_speakers <= self.max_speakers <= 10:
            raise InputError(
                f"need 1 <= min speakers <= max speakers <= 10, got {self.min_speakers} and {self.max_speakers}"
            )
        if self.therapist_speaker is not None and not self.therapist_speaker.strip():
            raise InputError("therapist speaker must be a label such as SPEAKER_0")

    @property
    def speaker_range(self) -> tuple[int, int]:
        """The (min, max) number of speakers diarization may return."""
        if self.num_speakers is not None:
            return self.num_speakers, self.num_speakers
        return self.min_speakers, self.max_speakers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TranscribeOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise InputError(f"unknown audio option(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**d)
