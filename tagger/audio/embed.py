"""Voice embeddings: the resemblyzer d-vector encoder (GE2E, 3-layer LSTM), run on mel windows.

The weights ship inside the ``resemblyzer`` wheel (``pretrained.pt``); they are loaded with
``torch.load(weights_only=True)`` into an identical network here, which avoids importing
resemblyzer itself (it pulls in librosa and webrtcvad at import time) and lets whole batches of
windows go through the LSTM at once. The mel front end reproduces resemblyzer's
(``librosa.feature.melspectrogram``: 25 ms Hann window, 10 ms hop, 40 Slaney mel bands, power 2,
not log-compressed) in numpy.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from tagger.errors import ModelError

SAMPLE_RATE = 16000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
WINDOW_FRAMES = 160  # 1.6 s: the partial-utterance length the encoder was trained on
EMBED_DIM = 256
TARGET_DBFS = -30.0  # resemblyzer's volume normalization target


def weights_path() -> Path:
    """Location of resemblyzer's bundled encoder weights; :class:`ModelError` if absent."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "the speaker encoder needs the 'resemblyzer' package: pip install resemblyzer webrtcvad-wheels"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise ModelError(f"resemblyzer is installed but its encoder weights are missing ({path}); reinstall it")
    return path


class SpeakerEncoder:
    """Maps 1.6 s mel windows to L2-normalized 256-d voice embeddings."""

    def __init__(self, device: str = "cpu", batch_size: int = 32, threads: int = 1) -> None:
        import torch
        from torch import nn

        self._torch = torch
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.threads = threads
        self.lstm = nn.LSTM(N_MELS, 256, 3, batch_first=True)
        self.linear = nn.Linear(256, EMBED_DIM)
        state = torch.load(weights_path(), map_location="cpu", weights_only=True)["model_state"]
        try:
            self.lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
            self.linear.load_state_dict({k[7:]: v for k, v in state.items() if k.startswith("linear.")})
        except (RuntimeError, KeyError) as exc:
            raise ModelError(f"resemblyzer encoder weights do not match the expected network: {exc}") from None
        self.lstm.to(self.device).eval()
        self.linear.to(self.device).eval()

    def embed(self, windows: np.ndarray) -> np.ndarray:
        """``windows``: (n, 160, 40) mel frames -> (n, 256) unit-norm embeddings.

        Every batch is padded to ``batch_size`` so the LSTM always sees one input shape: oneDNN
        builds a kernel per shape, which costs far more than the padding. On CPU the LSTM runs on
        ``threads`` threads (default 1): its per-step matrix products are small, and with two
        OpenMP threads on a busy machine the barrier spinning made it 10-40x slower (measured).
        """
        torch = self._torch
        saved = torch.get_num_threads()
        if self.device.type == "cpu" and self.threads:
            torch.set_num_threads(self.threads)
        try:
            return self._embed(windows)
        finally:
            torch.set_num_threads(saved)

    def _embed(self, windows: np.ndarray) -> np.ndarray:
        torch = self._torch
        n = len(windows)
        out = np.zeros((n, EMBED_DIM), dtype=np.float32)
        batch = np.zeros((self.batch_size, WINDOW_FRAMES, N_MELS), dtype=np.float32)
        with torch.inference_mode():
            for i in range(0, n, self.batch_size):
                m = min(self.batch_size, n - i)
                batch[:m] = windows[i : i + m]
                batch[m:] = 0.0
                x = torch.from_numpy(batch).to(self.device)
                _, (hidden, _) = self.lstm(x)
                e = torch.relu(self.linear(hidden[-1]))
                e = e / e.norm(dim=1, keepdim=True).clamp_min(1e-8)
                out[i : i + m] = e[:m].cpu().numpy()
        return out


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """Scale to ``target_dbfs`` RMS (both ways, so level changes do not move the embedding)."""
    rms = float(np.sqrt(np.mean(wav.astype(np.float64) ** 2))) if wav.size else 0.0
    if rms < 1e-6:
        return wav
    return (wav * (10 ** (target_dbfs / 20) / rms)).astype(np.float32)


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """Power mel spectrogram, shape (frames, 40), frame i centred at sample ``i * 160``."""
    x = np.pad(np.asarray(wav, dtype=np.float32), (N_FFT // 2, N_FFT // 2))
    n_frames = 1 + (len(x) - N_FFT) // HOP
    if n_frames <= 0:
        return np.zeros((0, N_MELS), dtype=np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP][:n_frames]
    spec = np.fft.rfft(frames * _hann(), axis=1)
    power = (spec.real**2 + spec.imag**2).astype(np.float32)
    return power @ _mel_filters().T


@lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    n = np.arange(N_FFT)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)  # periodic, as librosa


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """Slaney-style mel filter bank (librosa's default), shape (40, 201)."""

    def hz_to_mel(f: np.ndarray) -> np.ndarray:
        f = np.asarray(f, dtype=np.float64)
        lin = f / (200.0 / 3)
        log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
        return np.where(f >= 1000.0, log, lin)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        lin = m * (200.0 / 3)
        log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
        return np.where(m >= 15.0, log, lin)

    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(np.array(0.0)), hz_to_mel(np.array(SAMPLE_RATE / 2)), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)
