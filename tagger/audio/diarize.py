"""Who spoke each word: voice-embedding clustering, or one speaker per channel.

Voice mode: Silero VAD (bundled with faster-whisper) cuts speech into pause-delimited chunks;
each chunk is covered by 1.6 s windows (hop 0.8 s) embedded with the resemblyzer encoder.
Reliable windows (>= 1 s of speech) are clustered (agglomerative, Ward on unit vectors; the
speaker count chosen by the eigen-gap of their affinity matrix within the allowed range, tiny
clusters folded away), then refined on the sphere k-means style. Each ASR word takes the speaker whose centroid its
overlapping windows resemble most, so a speaker change inside an ASR segment splits it; short
flips inside one chunk are smoothed away, because speakers rarely change without a pause.
Stereo mode: each word goes to the channel that is loudest over its span.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from tagger.audio.asr import Word, window_bounds
from tagger.audio.embed import HOP, SAMPLE_RATE, WINDOW_FRAMES, SpeakerEncoder, mel_frames, normalize_volume

WINDOW_S = WINDOW_FRAMES * HOP / SAMPLE_RATE  # 1.6 s
WINDOW_HOP_S = 0.8
RELIABLE_SPEECH_S = 1.0  # windows with less speech are assigned, not clustered
MAX_CLUSTER_POINTS = 1500  # agglomerative clustering is O(n^2): cluster a subsample, assign the rest
MIN_CLUSTER_SHARE = 0.05  # a "speaker" with less of the speech is an artifact (noise, laughter)
FLIP_S = 1.0  # a speaker change inside one chunk must last at least this long
SIMILAR_VOICES = 0.90  # centroid cosine above this: the voices are hard to tell apart
MIN_EIGEN_GAP = 1.6  # below this no split into several voices is convincing (one voice: ~1.3; two or three: >= 2.5)

ProgressFn = Callable[[float], None]


@dataclass(frozen=True)
class Diarization:
    """A speaker index (0-based) for every word, in the order the words were given."""

    word_speakers: tuple[int, ...]
    num_speakers: int
    method: str  # "voice", "channels" or "single"
    silhouette: float | None = None
    max_centroid_similarity: float | None = None
    warnings: tuple[str, ...] = ()


def speech_chunks(audio: np.ndarray, *, min_silence_ms: int = 250) -> list[tuple[float, float]]:
    """Pause-delimited speech regions (seconds) from Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    opts = VadOptions(min_silence_duration_ms=min_silence_ms, speech_pad_ms=30, min_speech_duration_ms=120)
    # window by window (cut in pauses, as for ASR): Silero VAD over a whole file holds ~13 MB per minute
    return [
        ((a + t["start"]) / SAMPLE_RATE, (a + t["end"]) / SAMPLE_RATE)
        for a, b in window_bounds(audio)
        for t in get_speech_timestamps(audio[a:b], opts)
    ]


@dataclass(frozen=True)
class _Window:
    chunk: int
    start: float
    end: float
    speech: float


def diarize_voices(
    audio: np.ndarray,
    words: Sequence[Word],
    *,
    speaker_range: tuple[int, int] = (2, 4),
    encoder: SpeakerEncoder | None = None,
    chunks: list[tuple[float, float]] | None = None,
    progress: ProgressFn | None = None,
) -> Diarization:
    """Cluster voices in ``audio`` (mono 16 kHz) and give every word a speaker index."""
    if not words:
        return Diarization((), 0, "single")
    kmin, kmax = speaker_range
    chunks = _cover_words(chunks if chunks is not None else speech_chunks(audio), words)
    windows = _windows(chunks)
    encoder = encoder or SpeakerEncoder()
    emb = _embed_windows(audio, chunks, windows, encoder, progress)
    reliable = np.array([w.speech >= RELIABLE_SPEECH_S for w in windows])
    if reliable.sum() < 4:
        reliable = np.ones(len(windows), dtype=bool)
    warnings: list[str] = []
    if kmax == 1 or len(windows) < 2:
        if kmin > 1:
            warnings.append("too little speech to tell voices apart; all words are given to one speaker")
        return Diarization(tuple(0 for _ in words), 1, "single", warnings=tuple(warnings))

    centroids, sil = _cluster(emb[reliable], kmin, kmax)
    centroids = _refine(emb, reliable, centroids)
    k = len(centroids)
    sims = emb @ centroids.T  # (windows, k)
    labels = _word_labels(words, windows, sims, chunks)
    labels = _smooth(labels, words, _word_chunks(words, chunks))
    # Renumber by first appearance so SPEAKER_0 is whoever speaks first.
    order: dict[int, int] = {}
    for lab in labels:
        order.setdefault(lab, len(order))
    labels = [order[lab] for lab in labels]
    n_found = len(order)
    max_sim = None
    if k > 1:
        cs = centroids @ centroids.T
        max_sim = float(np.max(cs[~np.eye(k, dtype=bool)]))
        if max_sim > SIMILAR_VOICES:
            warnings.append(
                f"the voices are very similar (centroid similarity {max_sim:.2f}); check the speaker attribution "
                "or give the number of speakers"
            )
    if n_found < kmin:
        warnings.append(
            f"found {n_found} distinct voice(s), fewer than the {kmin} expected; if more people speak, "
            "pass --num-speakers N (or --channels split for one speaker per stereo channel)"
        )
    counts = np.bincount(labels, minlength=n_found)
    for spk in np.flatnonzero(counts < 0.03 * len(labels)):
        warnings.append(
            f"SPEAKER_{spk} has only {counts[spk]} of {len(labels)} words; it may be a split of another voice "
            "(pass --num-speakers to fix the count)"
        )
    return Diarization(tuple(labels), n_found, "voice", sil, max_sim, tuple(warnings))


def diarize_channels(stereo: np.ndarray, words: Sequence[Word]) -> Diarization:
    """One speaker per channel: each word goes to the channel loudest over its span."""
    pad = int(0.03 * SAMPLE_RATE)
    labels = []
    for w in words:
        a = max(0, int(w.start * SAMPLE_RATE) - pad)
        b = max(a + 1, int(w.end * SAMPLE_RATE) + pad)
        energy = np.mean(stereo[:, a:b].astype(np.float64) ** 2, axis=1)
        labels.append(int(np.argmax(energy)))
    used = sorted(set(labels))
    warnings: tuple[str, ...] = ()
    if len(used) < 2:
        warnings = ("only one channel holds speech; all words are given to one speaker",)
    return Diarization(tuple(labels), 2, "channels", warnings=warnings)


def channels_look_split(stereo: np.ndarray) -> bool:
    """True when each of two channels carries its own speaker (one channel clearly louder at a time).

    Identical or near-identical channels (a duplicated mono, a room pair) are not split.
    """
    if stereo.shape[0] != 2:
        return False
    frame = int(0.05 * SAMPLE_RATE)
    n = stereo.shape[1] // frame
    if n < 10:
        return False
    e = np.mean(stereo[:, : n * frame].reshape(2, n, frame).astype(np.float64) ** 2, axis=2) + 1e-12
    db = 10 * np.log10(e)
    active = db.max(axis=0) > db.max() - 35  # frames with speech on some channel
    if active.sum() < 10:
        return False
    diff = db[0, active] - db[1, active]
    left, right = np.mean(diff > 10), np.mean(diff < -10)
    return bool(left + right > 0.6 and min(left, right) > 0.1)


def _cover_words(chunks: list[tuple[float, float]], words: Sequence[Word]) -> list[tuple[float, float]]:
    """Add a chunk for words the VAD missed, so every word has windows to vote."""
    out = sorted(chunks)
    starts = np.array([a for a, _ in out])
    ends = np.array([b for _, b in out])
    extra = []
    for w in words:
        mid = (w.start + w.end) / 2
        i = int(np.searchsorted(starts, mid + 0.05, side="right")) - 1
        if i < 0 or mid > ends[i] + 0.05:
            extra.append((max(0.0, w.start - 0.05), w.end + 0.05))
    merged: list[tuple[float, float]] = []
    for a, b in sorted(out + extra):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _windows(chunks: list[tuple[float, float]]) -> list[_Window]:
    out = []
    for i, (a, b) in enumerate(chunks):
        length = b - a
        if length <= WINDOW_S + WINDOW_HOP_S / 2:
            out.append(_Window(i, a, b, length))
            continue
        n = int(np.ceil((length - WINDOW_S) / WINDOW_HOP_S)) + 1
        starts = np.linspace(a, b - WINDOW_S, n)
        out.extend(_Window(i, float(s), float(s) + WINDOW_S, WINDOW_S) for s in starts)
    return out


def _embed_windows(
    audio: np.ndarray,
    chunks: list[tuple[float, float]],
    windows: list[_Window],
    encoder: SpeakerEncoder,
    progress: ProgressFn | None,
) -> np.ndarray:
    """Embed windows in order, a few hundred at a time: memory stays flat for long recordings."""
    step = 256
    out = np.zeros((len(windows), 256), dtype=np.float32)
    mels = np.zeros((step, WINDOW_FRAMES, 40), dtype=np.float32)
    filled, first = 0, 0
    mel, mel_chunk = np.zeros((0, 40), dtype=np.float32), -1
    for j, w in enumerate(windows):
        a, b = chunks[w.chunk]
        if w.chunk != mel_chunk:
            mel = mel_frames(normalize_volume(audio[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)]))
            mel_chunk = w.chunk
        f0 = int(round((w.start - a) * SAMPLE_RATE / HOP))
        n_speech = max(1, int(round((w.end - w.start) * SAMPLE_RATE / HOP)))
        part = mel[f0 : f0 + min(WINDOW_FRAMES, n_speech)]
        if len(part) == 0:
            part = mel[-1:] if len(mel) else np.zeros((1, 40), dtype=np.float32)
        # A chunk shorter than a window is repeated to fill it: zero padding would pull all short
        # chunks towards one "silence" embedding instead of towards their speaker.
        mels[filled] = np.tile(part, (-(-WINDOW_FRAMES // len(part)), 1))[:WINDOW_FRAMES]
        filled += 1
        if filled == step or j == len(windows) - 1:
            out[first : first + filled] = encoder.embed(mels[:filled])
            first += filled
            filled = 0
            if progress is not None:
                progress(first / len(windows))
    return out


def _cluster(x: np.ndarray, kmin: int, kmax: int) -> tuple[np.ndarray, float | None]:
    """Centroids (unit norm) for the speaker count in [kmin, kmax], and its silhouette.

    A fixed count (kmin == kmax) is honoured as given. Otherwise the count is the largest
    eigen-gap ``lambda_k / lambda_k+1`` of the cosine affinity matrix for k >= 2 (silhouette
    preferred two clusters whenever two of three voices were alike); when no gap reaches
    MIN_EIGEN_GAP the recording holds one voice (the caller warns). Clusters come from
    agglomerative clustering (Ward), tiny ones folded into their neighbours.
    """
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import silhouette_score

    if len(x) > MAX_CLUSTER_POINTS:
        x = x[np.linspace(0, len(x) - 1, MAX_CLUSTER_POINTS).astype(int)]
    kmax = min(kmax, len(x) - 1)
    kmin = min(kmin, kmax)

    def centroids(labels: np.ndarray) -> np.ndarray:
        return _unit(np.stack([x[labels == c].mean(axis=0) for c in sorted(set(labels))]))

    if kmax <= 1:
        return _unit(x.mean(axis=0, keepdims=True)), None
    if kmin == kmax:
        k = kmin
    else:
        eig = np.sort(np.linalg.eigvalsh(x @ x.T))[::-1][: kmax + 1]
        eig = np.maximum(eig, 1e-9)
        gaps = {k: eig[k - 1] / eig[k] for k in range(max(kmin, 2), kmax + 1)}
        k = max(gaps, key=gaps.__getitem__)
        if gaps[k] < MIN_EIGEN_GAP:
            return _unit(x.mean(axis=0, keepdims=True)), None
    # Ward on unit vectors (squared Euclidean = 2 - 2 cos): average linkage split off single
    # outlier windows instead of the third voice.
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(x)
    if kmin != kmax:
        labels = _fold_small(x, labels)
    if len(set(labels)) < 2:
        return _unit(x.mean(axis=0, keepdims=True)), None
    return centroids(labels), float(silhouette_score(x, labels, metric="cosine"))


def _fold_small(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Merge clusters holding under MIN_CLUSTER_SHARE of the windows into their nearest big cluster."""
    counts = np.bincount(labels)
    big = [c for c in range(len(counts)) if counts[c] >= max(2, MIN_CLUSTER_SHARE * len(labels))]
    if not big or len(big) == len(counts):
        return labels
    cents = _unit(np.stack([x[labels == c].mean(axis=0) for c in big]))
    out = labels.copy()
    for i in np.flatnonzero(~np.isin(labels, big)):
        out[i] = big[int(np.argmax(cents @ x[i]))]
    _, out = np.unique(out, return_inverse=True)
    return out


def _refine(emb: np.ndarray, reliable: np.ndarray, cents: np.ndarray, iters: int = 5) -> np.ndarray:
    """Spherical k-means steps over all reliable windows (the clustering saw a subsample)."""
    x = emb[reliable]
    for _ in range(iters):
        lab = np.argmax(x @ cents.T, axis=1)
        new = [x[lab == c].mean(axis=0) if np.any(lab == c) else cents[c] for c in range(len(cents))]
        new_c = _unit(np.stack(new))
        if np.allclose(new_c, cents, atol=1e-5):
            break
        cents = new_c
    return cents


def _word_labels(
    words: Sequence[Word], windows: list[_Window], sims: np.ndarray, chunks: list[tuple[float, float]]
) -> list[int]:
    """Each word takes the speaker its overlapping windows resemble most (overlap-weighted)."""
    starts = np.array([w.start for w in windows])
    ends = np.array([w.end for w in windows])
    centres = (starts + ends) / 2
    # Windows are in time order with starts and ends both ascending.
    max_len = float(np.max(ends - starts)) if len(windows) else 0.0
    labels = []
    for w in words:
        a, b = w.start, max(w.end, w.start + 0.02)
        lo = int(np.searchsorted(starts, a - max_len, side="left"))
        hi = int(np.searchsorted(starts, b, side="left"))
        overlap = np.minimum(ends[lo:hi], b) - np.maximum(starts[lo:hi], a)
        idx = lo + np.flatnonzero(overlap > 0)
        if idx.size == 0:
            k = int(np.clip(np.searchsorted(centres, (a + b) / 2), 1, len(centres) - 1)) if len(centres) > 1 else 0
            if len(centres) > 1 and abs(centres[k - 1] - (a + b) / 2) < abs(centres[k] - (a + b) / 2):
                k -= 1
            labels.append(int(np.argmax(sims[k])))
            continue
        weights = overlap[idx - lo]
        labels.append(int(np.argmax((sims[idx] * weights[:, None]).sum(axis=0))))
    return labels


def _word_chunks(words: Sequence[Word], chunks: list[tuple[float, float]]) -> list[int]:
    """Index of the chunk holding each word's midpoint (chunks are sorted and disjoint)."""
    starts = np.array([a for a, _ in chunks])
    mids = np.array([(w.start + w.end) / 2 for w in words])
    return [int(i) for i in np.clip(np.searchsorted(starts, mids + 0.05, side="right") - 1, 0, len(chunks) - 1)]


def _smooth(labels: list[int], words: Sequence[Word], word_chunk: list[int]) -> list[int]:
    """Inside one pause-free chunk, absorb speaker runs shorter than FLIP_S into a neighbour.

    The shortest run goes first and joins its longer neighbour, so a brief misattribution
    disappears while two real turns without a pause between them survive. Runs in different
    chunks never merge: a one-word answer between pauses keeps its speaker.
    """
    out = list(labels)
    start = 0
    while start < len(out):
        end = start
        while end + 1 < len(out) and word_chunk[end + 1] == word_chunk[start]:
            end += 1
        _smooth_chunk(out, words, start, end)
        start = end + 1
    return out


def _smooth_chunk(labels: list[int], words: Sequence[Word], lo: int, hi: int) -> None:
    while True:
        runs: list[list[int]] = []  # [label, first, last]
        for i in range(lo, hi + 1):
            if runs and runs[-1][0] == labels[i]:
                runs[-1][2] = i
            else:
                runs.append([labels[i], i, i])
        if len(runs) < 2:
            return
        durs = [words[b].end - words[a].start for _, a, b in runs]
        j = int(np.argmin(durs))
        if durs[j] >= FLIP_S:
            return
        neighbours = [k for k in (j - 1, j + 1) if 0 <= k < len(runs)]
        target = max(neighbours, key=lambda k: durs[k])
        for i in range(runs[j][1], runs[j][2] + 1):
            labels[i] = runs[target][0]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-8)
