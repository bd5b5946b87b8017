"""The role model artifact and speaker-role assignment."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tagger.audio.roles import RoleModel, assign_roles, default_model_dir, tokens
from tagger.errors import InputError, ModelError

THERAPIST = [
    "What brings you in today?",
    "It sounds like the evenings have been really hard for you.",
    "On a scale from zero to ten, how confident are you that you could make that change?",
    "So part of you wants to stop, and part of you is worried about what you would lose.",
]
CLIENT = [
    "I have been drinking more since I lost my job.",
    "My wife keeps telling me to cut down, and it just makes me angry.",
    "I do not know. Maybe a five.",
    "I tried to stop last year but I only lasted a week.",
]


@pytest.fixture(scope="module")
def model() -> RoleModel:
    return RoleModel.load()


def test_artifact_is_small_and_explains_itself() -> None:
    d = default_model_dir()
    assert (d / "README.md").is_file()
    assert sum(p.stat().st_size for p in d.iterdir()) < 2_000_000
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["kind"] == "tfidf-logreg-roles" and cfg["labels"] == ["client", "therapist"]
    assert cfg["data"]["annomi_sha256"] and cfg["metrics"]["dev_annomi_sessions"]["whole_sessions"] >= 0.95
    assert not any(p.suffix in (".pkl", ".pickle", ".joblib") for p in d.iterdir())


def test_tokens() -> None:
    assert tokens("Don't you think?") == ["don't", "you", "think", "?", "don't you", "you think", "think ?"]


def test_utterance_logits_point_the_right_way(model: RoleModel) -> None:
    assert (model.logits(THERAPIST) > 0).mean() >= 0.75
    assert (model.logits(CLIENT) < 0).mean() >= 0.75


def test_assign_two_speakers_with_calibrated_confidence(model: RoleModel) -> None:
    a = model.assign({"SPEAKER_0": CLIENT, "SPEAKER_1": THERAPIST})
    assert a.therapist == "SPEAKER_1" and a.roles == {"SPEAKER_0": "client", "SPEAKER_1": "therapist"}
    assert a.source == "model"
    assert 0.5 < a.overall_confidence <= 1.0
    assert abs(a.therapist_probability["SPEAKER_0"] + a.therapist_probability["SPEAKER_1"] - 1) < 1e-9


def test_couples_session_has_one_therapist_and_two_clients(model: RoleModel) -> None:
    a = model.assign({"SPEAKER_0": CLIENT[:2], "SPEAKER_1": THERAPIST, "SPEAKER_2": CLIENT[2:]})
    assert a.therapist == "SPEAKER_1"
    assert sorted(a.roles.values()) == ["client", "client", "therapist"]


def test_override(model: RoleModel) -> None:
    a = model.assign({"SPEAKER_0": CLIENT, "SPEAKER_1": THERAPIST}, therapist="SPEAKER_0")
    assert a.roles["SPEAKER_0"] == "therapist" and a.source == "override" and a.overall_confidence == 1.0
    with pytest.raises(InputError, match="not among the detected speakers"):
        assign_roles({"SPEAKER_0": 0.0, "SPEAKER_1": 0.0}, 1.0, therapist="SPEAKER_7")


def test_missing_or_mismatched_artifact_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="role model not found"):
        RoleModel.load(tmp_path)
    bad = tmp_path / "bad"
    shutil.copytree(default_model_dir(), bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["format_version"] = 99
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="retrain"):
        RoleModel.load(bad)
