"""Decode any common audio/video container to 16 kHz float32 through PyAV (FFmpeg).

Decoding streams frame by frame into one preallocated array, so memory holds the decoded audio
and nothing that grows with the file besides it. Problems a user can act on (missing, empty,
unreadable or truncated files, no audio stream, silence) become :class:`AudioError` /
:class:`InputError` or a warning carried on the result, never a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from tagger.errors import AudioError, InputError

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16000
#: Extensions the project tests; FFmpeg reads many more, and any container with an audio stream is accepted.
COMMON_EXTENSIONS = (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".opus", ".webm", ".mp4", ".aac", ".wma", ".mkv", ".mov")
#: Peak level below which a recording counts as digital silence.
SILENCE_PEAK = 10 ** (-70 / 20)

_CONVERT_HINT = "convert it with e.g. `ffmpeg -i INPUT -ac 1 -ar 16000 output.wav`"


@dataclass(frozen=True)
class AudioSource:
    """What the container says about the file."""

    path: str
    container: str
    codec: str
    channels: int
    sample_rate: int
    declared_duration: float | None


@dataclass(frozen=True)
class DecodedAudio:
    """Decoded samples, shape ``(channels, n)`` float32 at ``sample_rate``, plus decoding warnings."""

    samples: np.ndarray
    sample_rate: int
    source: AudioSource
    warnings: tuple[str, ...] = ()

    @property
    def duration(self) -> float:
        return self.samples.shape[1] / self.sample_rate

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    def mono(self) -> np.ndarray:
        """The channel average (a view when the audio is already mono)."""
        if self.samples.shape[0] == 1:
            return self.samples[0]
        return self.samples.mean(axis=0, dtype=np.float32)


def decode_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE, keep_stereo: bool = False) -> DecodedAudio:
    """Decode the first audio stream of ``path`` to float32 at ``sample_rate``.

    Mono by default; ``keep_stereo=True`` keeps two channels when the stream has two or more
    (the first two), for per-channel diarization. Raises :class:`InputError` for a missing path
    and :class:`AudioError` for files that hold no decodable audio or only silence.
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"audio file not found: {p}")
    if not p.is_file():
        raise InputError(f"{p} is not a file; pass an audio file (wav, mp3, m4a, flac, ogg, webm, mp4)")
    if p.stat().st_size == 0:
        raise AudioError(f"{p} is empty (0 bytes); check that the recording was saved completely")

    try:
        container = av.open(str(p), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise AudioError(
            f"cannot read {p} as audio ({_reason(exc)}); the file is corrupt, truncated or not an audio/video "
            f"container (common ones: wav, mp3, m4a, flac, ogg, webm, mp4); {_CONVERT_HINT}"
        ) from None
    with container:
        fmt = container.format.name
        if not container.streams.audio:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "none"
            raise AudioError(
                f"{p} has no audio stream (container '{fmt}', streams: {kinds}); "
                "pass a recording with sound, or extract the audio track first"
            )
        stream = container.streams.audio[0]
        codec = stream.codec_context.name if stream.codec_context else "unknown"
        src_channels = int(stream.codec_context.channels or 0) if stream.codec_context else 0
        src_rate = int(stream.codec_context.sample_rate or 0) if stream.codec_context else 0
        declared = _declared_duration(container, stream)
        if fmt == "wav":
            # FFmpeg derives a WAV's length from the file size; the header's data size shows truncation.
            declared = _wav_header_duration(p) or declared
        source = AudioSource(str(p), fmt, codec, src_channels, src_rate, declared)
        n_out = 2 if keep_stereo and src_channels >= 2 else 1
        samples, error_at = _decode_stream(container, stream, sample_rate, n_out, declared)

    warnings: list[str] = []
    decoded = samples.shape[1] / sample_rate
    if samples.shape[1] == 0:
        if error_at is not None:
            raise AudioError(f"cannot decode any audio from {p} ({error_at}); the file is corrupt; {_CONVERT_HINT}")
        raise AudioError(f"{p} holds no audio samples (zero-length recording)")
    if error_at is not None:
        warnings.append(
            f"decoding {p.name} stopped at {decoded:.1f} s ({error_at}); the file looks truncated or "
            f"corrupt, only the first {decoded:.1f} s are used"
        )
    elif declared is not None and decoded < declared - max(1.0, 0.02 * declared):
        warnings.append(
            f"{p.name} looks truncated: its header says {declared:.1f} s but only {decoded:.1f} s decode; "
            "only the decodable part is used"
        )
    peak = max(float(samples.max()), -float(samples.min())) if samples.size else 0.0  # no temporary copy
    if peak < SILENCE_PEAK:
        raise AudioError(
            f"{p} is silent ({decoded:.1f} s, peak level {_dbfs(peak):.0f} dBFS); nothing to transcribe. "
            "Check the microphone input or the file you exported"
        )
    for w in warnings:
        logger.warning(w)
    return DecodedAudio(samples, sample_rate, source, tuple(warnings))


def _decode_stream(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    sample_rate: int,
    channels: int,
    declared: float | None,
) -> tuple[np.ndarray, str | None]:
    """Resample the stream into a growing preallocated buffer; report where decoding failed."""
    layout = "mono" if channels == 1 else "stereo"
    resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
    # A header can lie; cap the first guess (np.zeros pages are only committed once written).
    capacity = int(min(declared or 60.0, 4 * 3600.0) * sample_rate * 1.02) + sample_rate
    buf = np.zeros((channels, capacity), dtype=np.float32)
    n = 0
    error: str | None = None

    def push(frames: list[av.AudioFrame]) -> None:
        nonlocal buf, n
        for fr in frames:
            arr = fr.to_ndarray()  # (channels, samples) for planar float
            m = arr.shape[1]
            if n + m > buf.shape[1]:
                # Grow by 50%: a wrong header costs a few copies, not a copy per frame.
                grown = np.zeros((channels, max(n + m, int(buf.shape[1] * 1.5))), dtype=np.float32)
                grown[:, :n] = buf[:, :n]
                buf = grown
            buf[:, n : n + m] = arr
            n += m

    try:
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    push(resampler.resample(frame))
            except av.error.InvalidDataError as exc:
                # One bad packet in the middle of a good file is common (cut streams); keep going.
                logger.debug("skipping undecodable packet: %s", exc)
                if error is None:
                    error = f"undecodable data: {_reason(exc)}"
        push(resampler.resample(None))
        if error is not None and declared is not None and n / sample_rate >= declared - 1.0:
            error = None  # a glitch, but the whole length decoded
    except av.error.FFmpegError as exc:
        error = _reason(exc)
    if n < buf.shape[1] * 0.9:
        return buf[:, :n].copy(), error  # release the over-estimate
    return buf[:, :n], error


def _declared_duration(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        d = float(stream.duration * stream.time_base)
        if d > 0:
            return d
    if container.duration is not None and container.duration > 0:
        return container.duration / 1_000_000  # microseconds
    return None


def _wav_header_duration(path: Path) -> float | None:
    """Duration from a RIFF/WAVE header's ``fmt `` and ``data`` chunk sizes, or None."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, byte_rate = 12, 0
    while pos + 8 <= len(head):
        cid, size = head[pos : pos + 4], struct.unpack("<I", head[pos + 4 : pos + 8])[0]
        if cid == b"fmt " and pos + 20 <= len(head):
            byte_rate = struct.unpack("<I", head[pos + 16 : pos + 20])[0]
        elif cid == b"data":
            # 0 and 0xFFFFFFFF mark streamed WAVs whose size was never filled in.
            if byte_rate and 0 < size < 0xFFFFFFFF:
                return size / byte_rate
            return None
        pos += 8 + size + (size & 1)
    return None


def _reason(exc: BaseException) -> str:
    msg = getattr(exc, "strerror", None) or str(exc)
    return str(msg).strip().rstrip(".") or type(exc).__name__


def _dbfs(x: float) -> float:
    return 20 * np.log10(max(x, 1e-12))
