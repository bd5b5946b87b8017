"""Read prediction JSONL and align it to gold sessions by ``(session_id, utterance_id)``.

A prediction file must cover every gold utterance of every gold session it is scored on,
and nothing else: a mismatch raises :class:`AlignmentError` listing the missing and extra
ids, because a silently partial score is worse than none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagger.errors import InputError
from tagger.io.labeled import GoldLabels, LabeledSession
from tagger.types import TaggedUtterance

_SHOW = 8  # ids listed per kind of mismatch


class AlignmentError(InputError):
    """Predictions and gold do not cover the same utterances."""


@dataclass(frozen=True)
class AlignedUtterance:
    """One gold utterance with its prediction. ``speaker`` is the gold role."""

    utterance_id: str
    speaker: str
    gold: GoldLabels
    pred: TaggedUtterance


@dataclass(frozen=True)
class AlignedSession:
    session_id: str
    topic: str | None
    utterances: tuple[AlignedUtterance, ...]  # in gold order
    annotations: Mapping[str, Mapping[str, GoldLabels]] = field(default_factory=dict, hash=False)


def read_predictions(path: str | Path) -> list[TaggedUtterance]:
    """Read the JSONL written by ``tagger tag`` / ``tagger run`` (one record per utterance)."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: no such prediction file; write one with `tagger tag ... -o {p.name}`")
    out = []
    with p.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(TaggedUtterance.from_record(json.loads(line)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise InputError(
                    f"{p}: line {lineno}: not a prediction record ({type(exc).__name__}: {exc}); "
                    "expected the JSONL of `tagger tag` with session_id, utterance_id, speaker, text, codes"
                ) from exc
    if not out:
        raise InputError(f"{p}: no prediction records")
    return out


def _listing(kind: str, keys: Sequence[tuple[str, str]]) -> str:
    shown = ", ".join(f"{s}/{u}" for s, u in keys[:_SHOW])
    more = f" and {len(keys) - _SHOW} more" if len(keys) > _SHOW else ""
    return f"{len(keys)} {kind} (session/utterance): {shown}{more}"


def align(
    gold: Sequence[LabeledSession],
    pred: Sequence[TaggedUtterance],
    *,
    name: str = "predictions",
    partial: bool = False,
) -> tuple[AlignedSession, ...]:
    """Pair each labelled gold utterance with its prediction.

    ``partial``: score only the gold sessions the predictions mention (each of those must
    still be complete). Gold utterances without labels are skipped; a prediction for them is
    allowed.
    """
    by_key: dict[tuple[str, str], TaggedUtterance] = {}
    dupes: list[tuple[str, str]] = []
    for t in pred:
        key = (t.utterance.session_id, t.utterance.utterance_id)
        if key in by_key:
            dupes.append(key)
        by_key[key] = t
    if dupes:
        raise AlignmentError(f"{name}: {_listing('duplicated predictions', dupes)}; keep one record per utterance")
    pred_sessions = {s for s, _ in by_key}
    scored = [g for g in gold if not partial or g.session_id in pred_sessions]
    if not scored:
        raise AlignmentError(
            f"{name}: no prediction matches a gold session; gold sessions are e.g. "
            f"{', '.join(g.session_id for g in gold[:_SHOW])}, "
            f"predictions name {', '.join(sorted(pred_sessions)[:_SHOW])}"
        )
    gold_keys = {(g.session_id, u.utterance_id) for g in scored for u in g.session.utterances}
    missing = [
        (g.session_id, u.utterance_id)
        for g in scored
        for u in g.session.utterances
        if (g.session_id, u.utterance_id) not in by_key
    ]
    extra = sorted(k for k in by_key if k not in gold_keys and (not partial or k[0] in {g.session_id for g in scored}))
    if missing or extra:
        parts = []
        if missing:
            parts.append(_listing("gold utterances without a prediction", missing))
        if extra:
            parts.append(_listing("predictions not in the gold", extra))
        hint = (
            "predict on the gold file itself (`tagger eval --model`, or `tagger tag GOLD`) so the ids match"
            if partial
            else "predict on the gold file itself so the ids match, pick the gold sessions with --split, "
            "or pass --partial to score only the sessions the predictions cover"
        )
        raise AlignmentError(f"{name} do not match the gold: {'; '.join(parts)}. To fix: {hint}")
    out = []
    for g in scored:
        utts = tuple(
            AlignedUtterance(
                u.utterance_id, u.speaker, g.labels[u.utterance_id], by_key[(g.session_id, u.utterance_id)]
            )
            for u in g.session.utterances
            if u.utterance_id in g.labels
        )
        out.append(AlignedSession(g.session_id, g.topic, utts, g.annotations))
    return tuple(out)


def speaker_mismatches(sessions: Sequence[AlignedSession]) -> int:
    """Utterances whose predicted speaker role differs from the gold role."""
    return sum(u.pred.utterance.speaker != u.speaker for s in sessions for u in s.utterances)
