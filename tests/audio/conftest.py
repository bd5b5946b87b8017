"""Generated test audio: espeak-ng voices + sox, synthesized once per test session.

Dialogues live in ``tests/audio/dialogues/*.csv`` (original text, columns session_id,
utterance_id, speaker, speaker_id, text). Audio is written to a session temp dir and reused.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import DIALOGUES

# resemblyzer (imported by nothing of ours, but by the cross-check test) uses a deprecated scipy path.
warnings.filterwarnings("ignore", category=DeprecationWarning, module="resemblyzer")


def _tools_missing() -> str | None:
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    return f"needs {', '.join(missing)} (see .ci/apt-packages.txt)" if missing else None


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio")


@pytest.fixture(scope="session")
def synth(audio_dir: Path) -> Callable[..., object]:
    """``synth(name, ext=".wav", stereo=False, seed=0, turns=None)`` -> SynthSession (cached)."""
    reason = _tools_missing()
    if reason:
        pytest.skip(reason)
    from tagger.audio.synth import read_dialogue, synthesize_session

    cache: dict[tuple, object] = {}

    def make(name: str, ext: str = ".wav", *, stereo: bool = False, seed: int = 0, turns: int | None = None):
        key = (name, ext, stereo, seed, turns)
        if key not in cache:
            dialogue = read_dialogue(DIALOGUES / f"{name}.csv")
            if turns is not None:
                dialogue = dialogue[:turns]
            out = audio_dir / f"{name}_{seed}_{turns}_{'st' if stereo else 'mo'}{ext}"
            cache[key] = synthesize_session(dialogue, out, seed=seed, stereo=stereo)
        return cache[key]

    return make


@pytest.fixture(scope="session")
def short_clip(synth) -> Path:
    """About 15 s, two voices: for format and bad-input tests."""
    return synth("s01_drinking", ".wav", turns=3).path


@pytest.fixture(scope="session")
def write_wav(audio_dir: Path) -> Callable[[str, np.ndarray], Path]:
    from tagger.audio.encode import write_audio

    def make(name: str, samples: np.ndarray, rate: int = 16000) -> Path:
        return write_audio(audio_dir / name, samples, rate)

    return make


@pytest.fixture(scope="session")
def transcribed(synth):
    """One two-voice session run through the whole audio pipeline, shared by several tests."""
    from tagger.audio.transcribe import transcribe

    s = synth("s02_anxiety", ".mp3", seed=11)
    session, info = transcribe(s.path)
    return s, session, info
