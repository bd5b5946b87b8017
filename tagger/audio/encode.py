"""Write float audio to a file, the format chosen by the extension (PyAV; wav via ``wave``)."""

from __future__ import annotations

import wave
from pathlib import Path

import av
import numpy as np

from tagger.errors import InputError

# extension -> (PyAV container format, codec, encoder sample rate or None to keep)
_FORMATS: dict[str, tuple[str, str, int | None]] = {
    ".flac": ("flac", "flac", None),
    ".mp3": ("mp3", "libmp3lame", None),
    ".ogg": ("ogg", "libopus", 48000),
    ".opus": ("ogg", "libopus", 48000),
    ".webm": ("webm", "libopus", 48000),
    ".m4a": ("ipod", "aac", None),
    ".mp4": ("mp4", "aac", None),
}
WRITABLE = (".wav", *_FORMATS)


def write_audio(path: str | Path, samples: np.ndarray, sample_rate: int, *, bitrate: int | None = None) -> Path:
    """Write ``samples`` (shape ``(n,)`` or ``(channels, n)``, float in [-1, 1]) to ``path``."""
    path = Path(path)
    x = np.atleast_2d(np.asarray(samples, dtype=np.float32))
    ext = path.suffix.lower()
    if ext == ".wav":
        pcm = (np.clip(x, -1, 1) * 32767).round().astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(x.shape[0])
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(pcm.T.tobytes())
        return path
    if ext not in _FORMATS:
        raise InputError(f"cannot write {ext or 'files without extension'}; use one of {', '.join(WRITABLE)}")
    fmt, codec, rate = _FORMATS[ext]
    layout = "mono" if x.shape[0] == 1 else "stereo"
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate or sample_rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        if bitrate:
            stream.bit_rate = bitrate
        resampler = av.AudioResampler(format=stream.format.name, layout=layout, rate=rate or sample_rate)
        step = sample_rate  # one second per frame keeps memory flat
        for i in range(0, x.shape[1], step):
            chunk = np.ascontiguousarray(x[:, i : i + step])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
            frame.sample_rate = sample_rate
            for f in resampler.resample(frame):
                out.mux(stream.encode(f))
        for f in resampler.resample(None):
            out.mux(stream.encode(f))
        out.mux(stream.encode(None))
    return path
