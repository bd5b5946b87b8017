"""Decoding: every common container, and each kind of bad input gives a clear error or warning."""

from __future__ import annotations

import tracemalloc
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from tagger.audio.decode import decode_audio
from tagger.audio.encode import write_audio
from tagger.errors import AudioError, InputError


@pytest.fixture(scope="module")
def clip(short_clip: Path) -> tuple[np.ndarray, float]:
    d = decode_audio(short_clip)
    return d.samples, d.duration


@pytest.mark.parametrize("ext", [".wav", ".mp3", ".m4a", ".flac", ".ogg", ".webm", ".mp4"])
def test_common_containers_decode_to_16k_mono(ext: str, clip, audio_dir: Path) -> None:
    samples, duration = clip
    path = write_audio(audio_dir / f"fmt{ext}", samples, 16000)
    d = decode_audio(path)
    assert d.sample_rate == 16000 and d.channels == 1 and d.samples.dtype == np.float32
    assert abs(d.duration - duration) < 0.15, (ext, d.duration, duration)
    assert d.warnings == ()
    # Same sound, not just the same length: loudness within 1 dB of the source.
    rms = lambda x: 20 * np.log10(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert abs(rms(d.samples) - rms(samples)) < 1.0


def test_stereo_kept_on_request(clip, audio_dir: Path) -> None:
    samples, _ = clip
    stereo = np.vstack([samples[0], samples[0] * 0.1])
    path = write_audio(audio_dir / "stereo.flac", stereo, 16000)
    assert decode_audio(path).channels == 1
    d = decode_audio(path, keep_stereo=True)
    assert d.channels == 2
    assert np.abs(d.samples[0]).mean() > 5 * np.abs(d.samples[1]).mean()


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        decode_audio(tmp_path / "nope.wav")
    with pytest.raises(InputError, match="not a file"):
        decode_audio(tmp_path)


def test_zero_length_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        decode_audio(p)


def test_zero_length_audio_in_valid_container(write_wav) -> None:
    p = write_wav("zero_samples.wav", np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioError, match="no audio samples|zero-length"):
        decode_audio(p)


def test_text_renamed_wav(tmp_path: Path) -> None:
    p = tmp_path / "notes.wav"
    p.write_text("Session notes: client reports better sleep.\n" * 20)
    with pytest.raises(AudioError, match="cannot read .* as audio"):
        decode_audio(p)


def test_unsupported_containers(tmp_path: Path) -> None:
    # An image (FFmpeg opens it, but there is no audio stream) ...
    def chunk(tag: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + tag + data + (zlib.crc32(tag + data) & 0xFFFFFFFF).to_bytes(4, "big")

    ihdr = (8).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" + b"\x80" * 24) * 8)
    png += chunk(b"IEND", b"")
    img = tmp_path / "photo.mp3"
    img.write_bytes(png)
    with pytest.raises(AudioError, match="no audio stream|cannot read"):
        decode_audio(img)
    # ... and an archive, which FFmpeg cannot open at all.
    z = tmp_path / "recording.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("a.txt", "hello")
    with pytest.raises(AudioError, match="cannot read"):
        decode_audio(z)


def test_truncated_mp3_warns_and_keeps_the_decodable_part(clip, audio_dir: Path) -> None:
    samples, duration = clip
    full = write_audio(audio_dir / "full.mp3", samples, 16000)
    cut = audio_dir / "cut.mp3"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    d = decode_audio(cut)
    assert 0.3 * duration < d.duration < 0.7 * duration
    assert any("truncated" in w for w in d.warnings)


def test_truncated_wav_warns(clip, audio_dir: Path) -> None:
    samples, duration = clip
    full = write_audio(audio_dir / "full.wav", samples, 16000)
    cut = audio_dir / "cut.wav"
    cut.write_bytes(full.read_bytes()[:100_000])
    d = decode_audio(cut)
    assert d.duration < duration / 2
    assert any("truncated" in w for w in d.warnings)


def test_truncated_m4a_is_a_clear_error(clip, audio_dir: Path) -> None:
    samples, _ = clip
    full = write_audio(audio_dir / "full.m4a", samples, 16000)
    cut = audio_dir / "cut.m4a"
    cut.write_bytes(full.read_bytes()[:20_000])  # the index (moov) is at the end: nothing is decodable
    with pytest.raises(AudioError, match="corrupt, truncated"):
        decode_audio(cut)


def test_pure_silence(write_wav) -> None:
    p = write_wav("silence.wav", np.zeros(16000 * 5, dtype=np.float32))
    with pytest.raises(AudioError, match="silent"):
        decode_audio(p)


def test_memory_does_not_grow_beyond_the_decoded_audio(write_wav) -> None:
    """A 10-minute file: peak allocation stays close to the decoded array itself."""
    rng = np.random.default_rng(0)
    minutes = 10
    x = (0.05 * rng.standard_normal(16000 * 60 * minutes)).astype(np.float32)
    p = write_wav("long.wav", x)
    del x
    tracemalloc.start()
    d = decode_audio(p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert abs(d.duration - 60 * minutes) < 0.1
    assert peak < 1.25 * d.samples.nbytes, (peak, d.samples.nbytes)
