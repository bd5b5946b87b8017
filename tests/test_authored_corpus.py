"""The authored corpus keeps the issue's contract: size, positives per code, metadata, splits, and
positives that mostly do not name their technique."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from tagger.taxonomy import RISK_FLAG, load_taxonomy
from tagger.training.data import AUTHORED_DIR, SPLITS_DIR, load_authored
from tagger.training.splits import load_split

# the words that would give a technique away; a positive "names" its code if its text holds one
NAMES = {
    "cognitive_restructuring": ("restructur",),
    "behavioral_activation": ("behavioral activation", "behavioural activation"),
    "exposure": ("exposure",),
    "psychoeducation": ("psychoeducat",),
    "mindfulness": ("mindful",),
    "grounding": ("grounding",),
    "validation": ("validat",),
    "normalization": ("normaliz", "normalis"),
    "safety_planning": ("safety plan",),
    "problem_solving": ("problem solv", "problem-solv"),
    "acceptance_defusion": ("defus",),
    "values_clarification": ("clarif",),
    "interpretation": ("interpret",),
    "self_disclosure": ("disclos",),
    "distress_tolerance": ("distress tolerance",),
    "emotion_regulation": ("emotion regulation",),
    "interpersonal_effectiveness": ("interpersonal effectiveness",),
    "relaxation_breathing": ("relaxation", "breathing exercise", "breathing technique"),
    "homework": ("homework",),
    "affirmation": ("affirm",),
    "agenda_setting": ("agenda",),
    "goal_setting": ("goal",),
    "referral": ("refer",),
}


@pytest.fixture(scope="module")
def corpus():
    return load_authored()


def _utterances(corpus):
    for split in corpus.sessions.values():
        for ls in split:
            for u in ls.session.utterances:
                yield u, ls.labels[u.utterance_id]


def test_size_and_positives_per_code(corpus):
    sessions = [ls for split in corpus.sessions.values() for ls in split]
    assert len(sessions) >= 80
    pos: Counter[str] = Counter()
    risk = 0
    for _, gold in _utterances(corpus):
        pos.update(gold.codes)
        risk += bool(gold.risk_indicator)
    tax = load_taxonomy()
    low = {c: pos[c] for c in tax.predictable_therapist_ids if pos[c] < 60}
    assert not low, f"therapist codes under 60 positives: {low}"
    assert risk >= 60, f"{RISK_FLAG}: {risk} positives"


def test_most_positives_do_not_name_their_technique(corpus):
    pos: Counter[str] = Counter()
    named: Counter[str] = Counter()
    for u, gold in _utterances(corpus):
        for code in gold.codes:
            pos[code] += 1
            named[code] += any(w in u.text.lower() for w in NAMES.get(code, ()))
    shares = {c: round(named[c] / pos[c], 2) for c in NAMES if pos[c]}
    assert max(shares.values()) < 0.5, shares


def test_every_session_has_metadata_and_one_split(corpus):
    with (AUTHORED_DIR / "sessions.csv").open(newline="", encoding="utf-8") as fh:
        meta = {r["session_id"]: r for r in csv.DictReader(fh)}
    ids = [ls.session.session_id for split in corpus.sessions.values() for ls in split]
    ids += load_split(SPLITS_DIR / "authored.json").reserve  # written, in no split yet
    assert len(ids) == len(set(ids)) and set(ids) == set(meta)
    assert {r["practice_quality"] for r in meta.values()} <= {"good", "mixed", "poor"}
    assert {"poor", "good"} <= {r["practice_quality"] for r in meta.values()}


def test_second_annotation_covers_the_dev_split_blind_copy():
    """training/data/authored_second: a second annotator's labels of exactly the dev sessions, same utterances."""
    import json

    from tagger.io.labeled import read_labeled
    from tagger.training.data import AUTHORED_DIR, SPLITS_DIR

    second = {ls.session_id: ls for ls in read_labeled(AUTHORED_DIR.parent / "authored_second", fmt="codes")}
    dev = json.loads((SPLITS_DIR / "authored.json").read_text())["dev"]
    assert sorted(second) == sorted(dev)
    for sid, ls in second.items():
        first = read_labeled(AUTHORED_DIR / f"{sid}.csv", fmt="codes")[0]
        assert [(u.utterance_id, u.speaker, u.text) for u in ls.session.utterances] == [
            (u.utterance_id, u.speaker, u.text) for u in first.session.utterances
        ]
        assert set(ls.labels) == {u.utterance_id for u in ls.session.utterances}
