"""Synthetic session audio from a transcript, for tests, benchmarks and the demo sample.

Each speaker gets a clearly different espeak-ng voice (variant, pitch, speed); every turn is
post-processed with sox (resampling, band limiting, a random level change) and placed on a
timeline with natural pauses, then low-level noise is mixed in. The result is deterministic for
a given ``seed``. Needs the ``espeak-ng`` and ``sox`` programs (Debian packages of the same
names); nothing is downloaded.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.audio.encode import write_audio
from tagger.errors import InputError

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice: ``name`` is ``language+variant``; pitch 0-99; speed in words/min."""

    name: str
    pitch: int = 50
    speed: int = 160


#: Voices keyed by the speaker id of a dialogue: clearly different (accent, variant, pitch, rate)
#: and among the espeak-ng voices tiny.en recognizes best (eval/AUDIO.md has the comparison).
DEFAULT_VOICES: dict[str, Voice] = {
    "T": Voice("en-gb+m3", pitch=40, speed=150),
    "C1": Voice("en-us+f2", pitch=60, speed=160),
    "C2": Voice("en-us+m7", pitch=55, speed=150),
    "C3": Voice("en-gb+f3", pitch=60, speed=155),
}


@dataclass(frozen=True)
class Turn:
    """One line of a dialogue to synthesize."""

    speaker_id: str
    role: str
    text: str


@dataclass(frozen=True)
class PlacedTurn:
    """A synthesized turn with its place on the timeline (seconds)."""

    speaker_id: str
    role: str
    text: str
    start: float
    end: float


@dataclass(frozen=True)
class SynthSession:
    """What :func:`synthesize_session` wrote."""

    path: Path
    duration: float
    channels: int
    turns: tuple[PlacedTurn, ...]


def check_tools() -> None:
    """Raise :class:`InputError` naming the missing program if espeak-ng or sox is absent."""
    for tool, pkg in (("espeak-ng", "espeak-ng"), ("sox", "sox")):
        if shutil.which(tool) is None:
            raise InputError(f"'{tool}' is not installed; install the Debian package '{pkg}' (apt-get install {pkg})")


def synthesize_turn(text: str, voice: Voice, *, gain_db: float = 0.0) -> np.ndarray:
    """Speak ``text`` with ``voice``; return mono float32 samples at 16 kHz."""
    espeak = subprocess.run(
        ["espeak-ng", "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed), "--stdout", text],
        check=True,
        capture_output=True,
    )
    # sox: resample, remove rumble and the synthetic top end (a phone-/room-like band), set level.
    sox = subprocess.run(
        [
            "sox",
            "-t",
            "wav",
            "-",
            "-t",
            "wav",
            "-r",
            str(SAMPLE_RATE),
            "-b",
            "16",
            "-c",
            "1",
            "-",
            "highpass",
            "90",
            "lowpass",
            "6500",
            "gain",
            f"{gain_db:.2f}",
        ],
        input=espeak.stdout,
        check=True,
        capture_output=True,
    )
    with wave.open(io.BytesIO(sox.stdout)) as w:
        frames = w.readframes(w.getnframes())
    samples = np.frombuffer(frames, dtype=np.int16).astype(np.float32) / 32768.0
    return _trim(samples)


def synthesize_session(
    turns: Sequence[Turn],
    path: str | Path,
    *,
    voices: dict[str, Voice] | None = None,
    seed: int = 0,
    snr_db: float = 30.0,
    pause: tuple[float, float] = (0.35, 1.0),
    level_jitter_db: float = 4.0,
    stereo: bool = False,
    crosstalk_db: float = -24.0,
    lead_in: float = 0.6,
    bitrate: int | None = None,
) -> SynthSession:
    """Write a session recording of ``turns`` to ``path`` (format from its extension).

    ``stereo=True`` puts each of two speakers on its own channel (left = first speaker id seen)
    with a little crosstalk, like a two-microphone recording.
    """
    check_tools()
    voices = {**DEFAULT_VOICES, **(voices or {})}
    rng = np.random.default_rng(seed)
    speaker_order: list[str] = []
    for t in turns:
        if t.speaker_id not in voices:
            raise InputError(f"no voice for speaker id {t.speaker_id!r}; known: {sorted(voices)}")
        if t.speaker_id not in speaker_order:
            speaker_order.append(t.speaker_id)
    if stereo and len(speaker_order) != 2:
        raise InputError(f"stereo synthesis needs exactly two speakers, got {len(speaker_order)}")

    # Each speaker has a base level; each turn varies around it.
    base_gain = {s: float(rng.uniform(-6.0, 0.0)) for s in speaker_order}
    pieces: list[tuple[int, np.ndarray, PlacedTurn]] = []
    cursor = lead_in
    for t in turns:
        gain = base_gain[t.speaker_id] + float(rng.uniform(-level_jitter_db, level_jitter_db)) / 2
        audio = synthesize_turn(t.text, voices[t.speaker_id], gain_db=gain)
        start = cursor
        end = start + len(audio) / SAMPLE_RATE
        pieces.append((int(round(start * SAMPLE_RATE)), audio, PlacedTurn(t.speaker_id, t.role, t.text, start, end)))
        cursor = end + float(rng.uniform(*pause))
    total = int(round((cursor + 0.5) * SAMPLE_RATE))
    n_ch = 2 if stereo else 1
    mix = np.zeros((n_ch, total), dtype=np.float32)
    for offset, audio, placed in pieces:
        if stereo:
            own = speaker_order.index(placed.speaker_id)
            mix[own, offset : offset + len(audio)] += audio
            mix[1 - own, offset : offset + len(audio)] += audio * 10 ** (crosstalk_db / 20)
        else:
            mix[0, offset : offset + len(audio)] += audio
    speech_rms = float(np.sqrt(np.mean(np.concatenate([p[1] for p in pieces]) ** 2)))
    noise_rms = speech_rms * 10 ** (-snr_db / 20)
    for ch in range(n_ch):
        mix[ch] += _pink_noise(total, rng) * noise_rms
    np.clip(mix, -1.0, 1.0, out=mix)
    out = Path(path)
    write_audio(out, mix, SAMPLE_RATE, bitrate=bitrate)
    return SynthSession(out, total / SAMPLE_RATE, n_ch, tuple(p[2] for p in pieces))


def read_dialogue(path: str | Path) -> list[Turn]:
    """Read a dialogue CSV with columns ``speaker`` (role), ``text`` and optionally ``speaker_id``."""
    import csv

    turns: list[Turn] = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            role = row["speaker"].strip()
            sid = (row.get("speaker_id") or "").strip() or ("T" if role == "therapist" else "C1")
            turns.append(Turn(sid, role, row["text"].strip()))
    return turns


def _trim(x: np.ndarray, threshold: float = 1e-3) -> np.ndarray:
    """Drop the leading/trailing silence espeak-ng adds, so pauses are ours to set."""
    idx = np.flatnonzero(np.abs(x) > threshold)
    if idx.size == 0:
        return x
    return x[max(0, idx[0] - 160) : idx[-1] + 160]


def _pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS 1/f noise (shaped white noise)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    f[0] = f[1] if n > 1 else 1.0
    pink = np.fft.irfft(spec / np.sqrt(f), n).astype(np.float32)
    return pink / (np.sqrt(np.mean(pink**2)) + 1e-12)


def main(argv: list[str] | None = None) -> int:
    """``python -m tagger.audio.synth DIALOGUE.csv OUT.mp3``: speak a dialogue CSV into a recording."""
    import argparse
    import sys

    ap = argparse.ArgumentParser(prog="python -m tagger.audio.synth", description=main.__doc__)
    ap.add_argument("dialogue", help="CSV with columns speaker (therapist/client), text[, speaker_id]")
    ap.add_argument("output", help="audio file to write; the format follows the extension")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--stereo", action="store_true", help="one speaker per channel")
    ap.add_argument("--bitrate", type=int, help="encoder bit rate in bit/s (lossy formats)")
    args = ap.parse_args(argv)
    try:
        s = synthesize_session(read_dialogue(args.dialogue), args.output, seed=args.seed, stereo=args.stereo,
                               bitrate=args.bitrate)  # fmt: skip
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {s.path} ({s.duration:.1f} s, {len(s.turns)} turns, {s.channels} channel(s))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
