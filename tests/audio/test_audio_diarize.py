"""Diarization building blocks: encoder parity with resemblyzer, smoothing, channel mode."""

from __future__ import annotations

import numpy as np
import pytest

from tagger.audio.asr import Word
from tagger.audio.diarize import Diarization, _smooth, channels_look_split, diarize_channels
from tagger.audio.embed import SpeakerEncoder, mel_frames
from tagger.audio.transcribe import build_turns


def test_mel_front_end_matches_resemblyzer_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    x = (0.05 * np.random.default_rng(0).standard_normal(16000 * 2)).astype(np.float32)
    ours = mel_frames(x)
    ref = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours - ref)) <= 1e-5 * np.max(np.abs(ref))


def test_encoder_matches_resemblyzer() -> None:
    import torch

    resemblyzer = pytest.importorskip("resemblyzer")
    mels = np.abs(np.random.default_rng(1).standard_normal((3, 160, 40))).astype(np.float32)
    ours = SpeakerEncoder().embed(mels)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the multi-threaded LSTM is very slow on a busy machine
    try:
        with torch.inference_mode():
            ref = resemblyzer.VoiceEncoder("cpu", verbose=False)(torch.from_numpy(mels)).numpy()
    finally:
        torch.set_num_threads(threads)
    assert np.allclose(ours, ref, atol=1e-5)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def _words(spec: list[tuple[float, float]]) -> list[Word]:
    return [Word(a, b, f" w{i}", 0.9) for i, (a, b) in enumerate(spec)]


def test_short_flip_inside_a_chunk_is_smoothed_but_a_short_turn_after_a_pause_is_kept() -> None:
    words = _words([(0.0, 0.4), (0.4, 0.8), (0.8, 1.0), (1.0, 1.4), (1.4, 1.8), (3.0, 3.4), (4.5, 5.0)])
    labels = [0, 0, 1, 0, 0, 1, 0]
    chunks = [0, 0, 0, 0, 0, 1, 2]  # word 5 ("yes") is its own chunk between pauses
    assert _smooth(labels, words, chunks) == [0, 0, 0, 0, 0, 1, 0]


def test_turns_split_inside_an_asr_segment_at_the_speaker_change() -> None:
    words = _words([(0.0, 0.5), (0.5, 1.0), (1.2, 1.6), (1.6, 2.0), (8.0, 8.5)])
    diar = Diarization((0, 0, 1, 1, 1), 2, "voice")
    turns = build_turns(words, diar)
    assert [(lab, len(ws)) for lab, ws in turns] == [("SPEAKER_0", 2), ("SPEAKER_1", 2), ("SPEAKER_1", 1)]


def test_channel_mode_detection_and_attribution() -> None:
    sr = 16000
    rng = np.random.default_rng(0)
    speech = lambda n: (0.1 * rng.standard_normal(n)).astype(np.float32)  # noqa: E731
    left = np.concatenate([speech(sr * 2), np.zeros(sr * 2, np.float32), speech(sr * 2)])
    right = np.concatenate([np.zeros(sr * 2, np.float32), speech(sr * 2), np.zeros(sr * 2, np.float32)])
    split = np.vstack([left + 0.03 * right, right + 0.03 * left])
    assert channels_look_split(split)
    assert not channels_look_split(np.vstack([left + right, left + right]))  # duplicated mono
    words = _words([(0.5, 1.0), (2.5, 3.0), (4.5, 5.0)])
    d = diarize_channels(split, words)
    assert d.word_speakers == (0, 1, 0) and d.method == "channels"
