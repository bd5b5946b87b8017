"""Audio runs: word error rate against a reference transcript and speaker-attribution error.

Both texts are normalized the same way before scoring (lowercase, punctuation removed,
whitespace collapsed, and by default the fillers in :data:`FILLERS` dropped, because
reference transcripts keep "uh"/"um" that ASR usually omits). WER is pooled over sessions
(total edits / total reference words).

Speaker-attribution error: the reference and hypothesis word sequences are aligned (the
WER alignment); of the aligned word pairs (matches and substitutions), the share whose
hypothesis speaker role differs from the reference role. It isolates diarization and role
errors from recognition errors.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import jiwer

from tagger.errors import InputError
from tagger.types import Session, Utterance

FILLERS = frozenset({"uh", "um", "uhm", "umm", "hmm", "mm", "mmhmm", "mhm", "uhhuh", "er", "ah", "eh"})
NORMALIZATION = "lowercase; punctuation removed (apostrophes and hyphens join); whitespace collapsed; fillers dropped"

_SPACE = re.compile(r"\s+")


def normalize(text: str, drop_fillers: bool = True) -> list[str]:
    """Normalized words of ``text``."""
    t = unicodedata.normalize("NFKC", text).lower()
    t = t.replace("'", "").replace("\u2019", "").replace("-", "")  # don't -> dont, mm-hmm -> mmhmm
    t = "".join(
        " " if unicodedata.category(ch).startswith("P") or unicodedata.category(ch).startswith("S") else ch for ch in t
    )
    words = [w for w in _SPACE.split(t) if w]
    return [w for w in words if w not in FILLERS] if drop_fillers else words


@dataclass(frozen=True)
class TranscriptScore:
    """WER and speaker attribution of one session."""

    session_id: str
    ref_session_id: str
    ref_words: int
    hyp_words: int
    substitutions: int
    deletions: int
    insertions: int
    wer: float | None
    aligned_words: int  # matched or substituted word pairs
    speaker_errors: int  # aligned pairs whose speaker role differs
    speaker_error_rate: float | None


@dataclass(frozen=True)
class AsrScores:
    sessions: tuple[TranscriptScore, ...]
    wer: float | None
    speaker_error_rate: float | None
    normalization: str = NORMALIZATION


def _words_with_roles(utts: Sequence[Utterance], drop_fillers: bool) -> tuple[list[str], list[str]]:
    words: list[str] = []
    roles: list[str] = []
    for u in utts:
        ws = normalize(u.text, drop_fillers)
        words += ws
        roles += [u.speaker] * len(ws)
    return words, roles


def score_transcript(
    reference: Sequence[Utterance], hypothesis: Sequence[Utterance], drop_fillers: bool = True
) -> TranscriptScore:
    """WER and speaker-attribution error of one hypothesis session against its reference."""
    ref_w, ref_r = _words_with_roles(reference, drop_fillers)
    hyp_w, hyp_r = _words_with_roles(hypothesis, drop_fillers)
    sid = hypothesis[0].session_id if hypothesis else ""
    rid = reference[0].session_id if reference else ""
    if not ref_w:
        raise ValueError(f"reference session {rid!r} has no words to score against")
    if hyp_w:
        out = jiwer.process_words(" ".join(ref_w), " ".join(hyp_w))
        s, d, i = out.substitutions, out.deletions, out.insertions
        aligned = errors = 0
        for chunk in out.alignments[0]:
            if chunk.type in ("equal", "substitute"):
                for k in range(chunk.ref_end_idx - chunk.ref_start_idx):
                    aligned += 1
                    errors += ref_r[chunk.ref_start_idx + k] != hyp_r[chunk.hyp_start_idx + k]
    else:
        s, d, i, aligned, errors = 0, len(ref_w), 0, 0, 0
    return TranscriptScore(
        session_id=sid,
        ref_session_id=rid,
        ref_words=len(ref_w),
        hyp_words=len(hyp_w),
        substitutions=s,
        deletions=d,
        insertions=i,
        wer=(s + d + i) / len(ref_w),
        aligned_words=aligned,
        speaker_errors=errors,
        speaker_error_rate=errors / aligned if aligned else None,
    )


def pool(scores: Sequence[TranscriptScore]) -> AsrScores:
    """Corpus-level WER and speaker-attribution error (pooled counts)."""
    ref = sum(s.ref_words for s in scores)
    edits = sum(s.substitutions + s.deletions + s.insertions for s in scores)
    aligned = sum(s.aligned_words for s in scores)
    errors = sum(s.speaker_errors for s in scores)
    return AsrScores(
        sessions=tuple(scores),
        wer=edits / ref if ref else None,
        speaker_error_rate=errors / aligned if aligned else None,
    )


def _ordered(utts: Sequence[Utterance]) -> list[Utterance]:
    """Spoken order: by start time when every utterance has one, else file order."""
    if utts and all(u.start is not None for u in utts):
        return sorted(utts, key=lambda u: u.start or 0.0)
    return list(utts)


def score_sessions(
    reference: Sequence[Session], hypothesis: Sequence[Utterance], *, drop_fillers: bool = True
) -> AsrScores:
    """Score hypothesis utterances (grouped by ``session_id``) against reference sessions.

    Sessions pair by id; a single hypothesis session and a single reference session pair
    whatever their ids (an audio file's session id is usually its file name).
    """
    hyp: dict[str, list[Utterance]] = {}
    for u in hypothesis:
        hyp.setdefault(u.session_id, []).append(u)
    ref = {s.session_id: s for s in reference}
    if len(hyp) == 1 and len(ref) == 1:
        pairs = [(next(iter(ref.values())), next(iter(hyp.values())))]
    else:
        missing = sorted(set(hyp) - set(ref))
        if missing:
            raise InputError(
                f"no reference transcript for hypothesis session(s) {', '.join(missing[:8])}; "
                f"reference sessions are {', '.join(sorted(ref)[:8])}. Name the audio after the reference "
                "session id, or score one session at a time"
            )
        pairs = [(ref[sid], utts) for sid, utts in hyp.items()]
    return pool([score_transcript(list(r.utterances), _ordered(h), drop_fillers) for r, h in pairs])
