"""Shared helpers of the audio tests (a unique module name: test dirs have no __init__.py)."""

from __future__ import annotations

from pathlib import Path

DIALOGUES = Path(__file__).parent / "dialogues"
TWO_VOICE = ("s01_drinking", "s02_anxiety", "s03_grief", "s04_sleep", "s05_smoking", "s06_work")
THREE_VOICE = ("c01_couple", "c02_family")


def reference_turns(synth_session) -> list[tuple[str, str, str]]:
    return [(t.speaker_id, t.role, t.text) for t in synth_session.turns]


def hypothesis_turns(session) -> list[tuple[str, str, str]]:
    return [(u.speaker_label, u.speaker, u.text) for u in session.utterances]
