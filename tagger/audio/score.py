"""Score a transcribed session against a reference: WER, speaker attribution, roles.

Both sides are normalized word by word (case, punctuation, contractions, numbers and currency
written as words), keeping each word's speaker, then aligned with jiwer. Hypothesis speaker
labels are mapped one-to-one onto reference speakers (Hungarian assignment on aligned words);
attribution is the share of aligned word pairs whose speakers agree under that mapping.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_CONTRACTIONS = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "n't": " not", "i'm": "i am",
    "'re": " are", "'ve": " have", "'ll": " will", "'d": " would", "let's": "let us",
    "it's": "it is", "that's": "that is", "what's": "what is", "there's": "there is",
    "he's": "he is", "she's": "she is", "here's": "here is", "who's": "who is",
    "okay": "ok", "alright": "all right", "mmhmm": "mm hmm", "mm-hmm": "mm hmm", "uh-huh": "uh huh",
}  # fmt: skip
_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
        "seventeen eighteen nineteen".split()  # fmt: skip
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_CURRENCY = {"£": "pounds", "$": "dollars", "€": "euros"}


def number_words(n: int) -> str:
    """English words for 0 <= n < 1,000,000 (other numbers are returned as digits)."""
    if n < 0 or n >= 1_000_000:
        return str(n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def normalize_words(text: str) -> list[str]:
    """Lower-case words with punctuation removed, contractions expanded, numbers spelled out."""
    t = text.lower().replace("’", "'")
    t = re.sub(r"([£$€])\s?(\d[\d,]*)", lambda m: f"{m.group(2)} {_CURRENCY[m.group(1)]}", t)
    t = re.sub(r"(\d),(\d{3})", r"\1\2", t)
    t = re.sub(r"(\d+)%", r"\1 percent", t)
    t = re.sub(r"\d+", lambda m: number_words(int(m.group())), t)
    for k in ("can't", "cannot", "won't", "let's"):
        t = t.replace(k, _CONTRACTIONS[k])
    t = re.sub(r"\b(\w+)'(s|re|ve|ll|d|m)\b", lambda m: _expand(m.group(1), m.group(2)), t)
    t = t.replace("n't", " not")
    t = re.sub(r"-", " ", t)
    t = re.sub(r"[^\w\s']", " ", t).replace("'", "")
    out = []
    for w in t.split():
        out.extend(_CONTRACTIONS.get(w, w).split())
    return out


def _expand(stem: str, suffix: str) -> str:
    whole = f"{stem}'{suffix}"
    if whole in _CONTRACTIONS:
        return _CONTRACTIONS[whole]
    if suffix == "s":
        return f"{stem}s"  # possessive ("mother's") or ambiguous "is"/"has": keep one token
    return stem + _CONTRACTIONS["'" + suffix]


@dataclass(frozen=True)
class SessionScore:
    """Scores of one session; ``attribution`` in [0, 1]; ``therapist_correct`` per session."""

    wer: float
    ref_words: int
    attribution: float
    aligned_words: int
    role_word_accuracy: float
    therapist_correct: bool
    speaker_map: tuple[tuple[str, str], ...]


def score_session(
    reference: Sequence[tuple[str, str, str]],
    hypothesis: Sequence[tuple[str, str, str]],
) -> SessionScore:
    """Compare ``(speaker_id, role, text)`` reference turns with hypothesis turns.

    For the hypothesis, ``speaker_id`` is the diarization label (``SPEAKER_0``) and ``role`` the
    predicted role; for the reference, any stable id per real speaker.
    """
    import jiwer
    from scipy.optimize import linear_sum_assignment

    ref_words, ref_spk, ref_role = _flatten(reference)
    hyp_words, hyp_spk, hyp_role = _flatten(hypothesis)
    if not ref_words:
        raise ValueError("reference has no words")
    if not hyp_words:
        return SessionScore(1.0, len(ref_words), 0.0, 0, 0.0, False, ())
    out = jiwer.process_words(" ".join(ref_words), " ".join(hyp_words))
    pairs: list[tuple[int, int]] = []
    for chunk in out.alignments[0]:
        if chunk.type in ("equal", "substitute"):
            n = min(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)
            pairs.extend((chunk.ref_start_idx + i, chunk.hyp_start_idx + i) for i in range(n))
    r_ids = sorted(set(ref_spk))
    h_ids = sorted(set(hyp_spk))
    counts = np.zeros((len(h_ids), len(r_ids)))
    for r, h in pairs:
        counts[h_ids.index(hyp_spk[h]), r_ids.index(ref_spk[r])] += 1
    rows, cols = linear_sum_assignment(-counts)
    mapping = {h_ids[r]: r_ids[c] for r, c in zip(rows, cols, strict=True)}
    correct = sum(1 for r, h in pairs if mapping.get(hyp_spk[h]) == ref_spk[r])
    role_ok = sum(1 for r, h in pairs if hyp_role[h] == ref_role[r])
    ref_therapists = {s for s, role in zip(ref_spk, ref_role, strict=True) if role == "therapist"}
    hyp_therapists = {s for s, role in zip(hyp_spk, hyp_role, strict=True) if role == "therapist"}
    therapist_ok = bool(hyp_therapists) and {mapping.get(h) for h in hyp_therapists} == ref_therapists
    n_pairs = max(1, len(pairs))
    return SessionScore(
        wer=float(out.wer),
        ref_words=len(ref_words),
        attribution=correct / n_pairs,
        aligned_words=len(pairs),
        role_word_accuracy=role_ok / n_pairs,
        therapist_correct=therapist_ok,
        speaker_map=tuple(sorted(mapping.items())),
    )


def _flatten(turns: Sequence[tuple[str, str, str]]) -> tuple[list[str], list[str], list[str]]:
    words, spk, role = [], [], []
    for s, r, text in turns:
        for w in normalize_words(text):
            words.append(w)
            spk.append(s)
            role.append(r)
    return words, spk, role
