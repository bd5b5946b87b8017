"""ASR model resolution (offline only) and recordings without speech."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tagger.audio.asr import DEFAULT_MODEL, default_compute_type, pick_device, resolve_model
from tagger.audio.options import TranscribeOptions
from tagger.errors import AudioError, InputError, ModelError


def test_default_model_is_the_bundled_tiny_en() -> None:
    m = resolve_model(None)
    assert m.name == DEFAULT_MODEL == "tiny.en"
    assert m.source == "bundled"
    assert (Path(m.path) / "model.bin").is_file()


def test_local_model_directory(tmp_path: Path) -> None:
    bundled = Path(resolve_model(None).path)
    assert resolve_model(str(bundled)).source == "local"
    with pytest.raises(ModelError, match="no model.bin"):
        resolve_model(str(tmp_path))
    with pytest.raises(ModelError, match="does not exist"):
        resolve_model(str(tmp_path / "missing-model"))


def test_unknown_and_unavailable_models_are_clear_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="unknown ASR model"):
        resolve_model("tiny-but-better")
    # An empty Hugging Face cache: a known size name is not available offline, and nothing is fetched.
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelError, match="not available offline"):
        resolve_model("small.en")


def test_device_and_compute_type_defaults() -> None:
    assert pick_device("cpu") == "cpu"
    assert pick_device("auto") in ("cpu", "cuda")
    assert default_compute_type("cpu") == "int8"
    assert default_compute_type("cuda") == "float16"


def test_options_validate() -> None:
    with pytest.raises(InputError):
        TranscribeOptions(device="tpu")
    with pytest.raises(InputError):
        TranscribeOptions(min_speakers=3, max_speakers=2)
    with pytest.raises(InputError):
        TranscribeOptions(channels="left")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown audio option"):
        TranscribeOptions.from_dict({"beam": 3})
    assert TranscribeOptions(num_speakers=3).speaker_range == (3, 3)
    assert TranscribeOptions.from_dict(TranscribeOptions().to_dict()) == TranscribeOptions()


def _tone(seconds: float) -> np.ndarray:
    t = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)).astype(np.float32)


def _music(seconds: float) -> np.ndarray:
    """Plucked notes with harmonics and vibrato over a pulsing bass line: music-like, no speech."""
    rng = np.random.default_rng(0)
    sr = 16000
    x = np.zeros(int(sr * seconds))
    notes = [262, 294, 330, 349, 392, 440, 494, 523]
    for i in range(int(seconds * 2)):
        f = notes[rng.integers(len(notes))]
        s = int(i * 0.5 * sr)
        tt = np.arange(min(sr // 2, len(x) - s)) / sr
        for h, a in ((1, 1.0), (2, 0.5), (3, 0.3)):
            x[s : s + len(tt)] += (
                a * np.exp(-3 * tt) * np.sin(2 * np.pi * f * h * tt * (1 + 0.005 * np.sin(10 * np.pi * tt)))
            )
    t = np.arange(len(x)) / sr
    x += 0.3 * np.sin(2 * np.pi * 110 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


@pytest.mark.parametrize(
    "name,make",
    [
        ("tone.wav", _tone),
        ("music.mp3", _music),
        ("noise.flac", lambda s: (0.05 * np.random.default_rng(1).standard_normal(int(16000 * s))).astype(np.float32)),
    ],
)
def test_no_speech_is_an_error_not_an_empty_success(name, make, audio_dir: Path) -> None:
    from tagger.audio.encode import write_audio
    from tagger.audio.transcribe import transcribe

    path = write_audio(audio_dir / name, make(15.0), 16000)
    with pytest.raises(AudioError, match="speech"):
        transcribe(path)


def test_windows_cover_the_recording_and_cut_in_pauses() -> None:
    from tagger.audio.asr import window_bounds

    sr = 16000
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(sr * 100)).astype(np.float32)  # 100 s of "speech"
    audio[sr * 33 : sr * 34] = 0.0  # the only pause near the first 40 s mark
    audio[sr * 70 : sr * 71] = 0.0
    bounds = window_bounds(audio, window_s=40.0, search_s=10.0)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(audio)
    assert all(a < b and b - a <= 40 * sr for a, b in bounds)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(bounds, bounds[1:], strict=False))
    assert sr * 33 <= bounds[0][1] <= sr * 34 and sr * 70 <= bounds[1][1] <= sr * 71
    assert window_bounds(audio[: sr * 10], window_s=40.0) == [(0, sr * 10)]


def test_windowed_recognition_matches_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """A recording cut into windows gives the same words, with times on the recording's clock."""
    import jiwer

    from tagger.audio import asr
    from tagger.audio.decode import decode_audio

    audio = decode_audio(Path(__file__).parents[2] / "data_samples" / "session_audio.mp3").mono()
    options = TranscribeOptions(device="cpu")
    bundle = asr.load_model(options)
    whole = asr.transcribe_words(audio, options, model_bundle=bundle)
    monkeypatch.setattr(asr, "WINDOW_S", 15.0)
    monkeypatch.setattr(asr, "SEARCH_S", 5.0)
    assert len(asr.window_bounds(audio, 15.0, 5.0)) >= 3
    cut = asr.transcribe_words(audio, options, model_bundle=bundle)
    starts = [w.start for w in cut.words]
    assert starts == sorted(starts) and 0 <= starts[0] and cut.words[-1].end <= len(audio) / 16000 + 0.5
    text = lambda r: " ".join(w.text.strip().lower() for w in r.words)  # noqa: E731
    assert jiwer.wer(text(whole), text(cut)) < 0.1
