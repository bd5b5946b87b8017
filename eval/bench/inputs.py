"""Benchmark inputs: transcript archives of N utterances and session recordings of N minutes.

Transcripts come from the authored corpus (``training/data/authored/s*.csv``) interleaved with
AnnoMI (``../shared/data/annomi/AnnoMI-simple.csv`` or ``$TAGGER_ANNOMI_DIR``, when present), whole
sessions in a fixed order, so a smaller archive is a prefix of a larger one. The engine encodes
each distinct text once per call, so an archive must not simply repeat the corpus: past the
end of the pool, every repeated utterance gets a spoken discourse marker in front ("Okay, so ...")
and is a new text. Each archive reports its share of distinct texts.

Recordings are the authored sessions spoken with two espeak-ng voices (``tagger.audio.synth``),
one chunk per session, cached as WAV under ``WORK/audio/chunks``; a recording of N minutes is
the first N minutes of the chunks in a row, written as MP3 (a compressed file, as a real
recording would be) and cached too, so reruns never resynthesize.
"""

from __future__ import annotations

import csv
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from machine import ROOT

AUTHORED = ROOT / "training" / "data" / "authored"
SAMPLE_RATE = 16000
#: Put in front of utterances on the second, third ... pass over the pool (a new text each time).
MARKERS = ("Okay, so ", "Right, ", "Well, ", "And, um, ", "So ", "Mm, ")


def _pool():
    from tagger.io.labeled import default_annomi_dir
    from tagger.io.readers import read_transcript

    authored = [s for f in sorted(AUTHORED.glob("s[0-9]*.csv")) for s in read_transcript(f)]
    annomi_csv = default_annomi_dir() / "AnnoMI-simple.csv"
    annomi = read_transcript(annomi_csv) if annomi_csv.is_file() else []
    pool = []
    for i in range(max(len(authored), len(annomi))):
        pool += [lst[i] for lst in (authored, annomi) if i < len(lst)]
    return pool, annomi_csv.is_file()


@dataclass(frozen=True)
class Archive:
    path: Path
    utterances: int
    sessions: int
    distinct_texts: int
    words_per_utterance: float
    with_annomi: bool


def transcript_archive(n: int, work: Path) -> Archive:
    """Write (or rewrite: it is cheap and the corpus may change) a CSV of exactly ``n`` utterances."""
    pool, with_annomi = _pool()
    rows: list[tuple[str, int, str, str]] = []
    sessions = 0
    k = 0
    while len(rows) < n:
        for s in pool:
            sid = s.session_id if k == 0 else f"{s.session_id}-r{k}"
            marker = "" if k == 0 else MARKERS[(k - 1) % len(MARKERS)] * (1 + (k - 1) // len(MARKERS))
            sessions += 1
            for i, u in enumerate(s.utterances):
                text = u.text if not marker else marker + u.text[:1].lower() + u.text[1:]
                rows.append((f"{sid}", i, u.speaker, text))
                if len(rows) == n:
                    break
            if len(rows) == n:
                break
        k += 1
    out = work / "transcripts" / f"archive-{n}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["session_id", "utterance_id", "speaker", "text"])
        w.writerows(rows)
    words = sum(len(r[3].split()) for r in rows) / max(n, 1)
    return Archive(out, n, sessions, len({r[3] for r in rows}), round(words, 1), with_annomi)


# --------------------------------------------------------------------------- audio


def _chunk(i: int, work: Path) -> Path:
    """Authored session number ``i`` (0-based) spoken as one WAV chunk, synthesized once."""
    from tagger.audio.synth import read_dialogue, synthesize_session

    files = sorted(AUTHORED.glob("s[0-9]*.csv"))
    src = files[i % len(files)]
    out = work / "audio" / "chunks" / f"{src.stem}.wav"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".part.wav")
        synthesize_session(read_dialogue(src), tmp, seed=i + 1)
        tmp.replace(out)
    return out


def _read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == SAMPLE_RATE and w.getnchannels() == 1
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")


@dataclass(frozen=True)
class Recording:
    path: Path
    seconds: float  # as written; MP3 decoding adds a few milliseconds of encoder padding


def session_audio(minutes: float, work: Path) -> Recording:
    """A two-voice session recording of exactly ``minutes`` minutes (MP3, 16 kHz mono), cached."""
    from tagger.audio.encode import write_audio

    n = int(round(minutes * 60 * SAMPLE_RATE))
    out = work / "audio" / f"session-{minutes:g}min.mp3"
    if not out.is_file():
        parts, have, i = [], 0, 0
        while have < n:
            parts.append(_read_wav(_chunk(i, work)))
            have += len(parts[-1])
            i += 1
        pcm = np.concatenate(parts)[:n]
        del parts
        tmp = out.with_name(out.stem + ".part.mp3")
        write_audio(tmp, pcm.astype(np.float32) / 32768.0, SAMPLE_RATE)
        tmp.replace(out)
    return Recording(out, n / SAMPLE_RATE)


def audio_seconds(path: Path) -> float:
    """Decoded duration, as the pipeline will see it."""
    from tagger.audio.decode import decode_audio

    return decode_audio(path).duration
