"""Split files: whole sessions per split, and a reserve of sessions no split (and no model) uses yet."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.training.data import AUTHORED_DIR, load_authored
from tagger.training.splits import Split, load_split


def _corpus_dir(tmp_path: Path, ids: list[str]) -> Path:
    root = tmp_path / "authored"
    root.mkdir()
    for i in ids:
        shutil.copy(AUTHORED_DIR / f"{i}.csv", root)
    return root


def test_reserved_sessions_are_in_no_split(tmp_path: Path):
    root = _corpus_dir(tmp_path, ["s001", "s002", "s003", "s004"])
    spec = {"seed": 13, "train": ["s001"], "calib": ["s002"], "dev": ["s003"], "reserve": ["s004"]}
    (tmp_path / "split.json").write_text(json.dumps(spec))
    corpus = load_authored(root, tmp_path / "split.json")
    got = {n: [s.session.session_id for s in v] for n, v in corpus.sessions.items()}
    assert got == {"train": ["s001"], "calib": ["s002"], "dev": ["s003"]}
    hashed = sorted(Path(k).name for k in corpus.files)  # the data a model trained on it records
    assert hashed == ["s001.csv", "s002.csv", "s003.csv"]


def test_a_session_in_reserve_and_a_split_is_refused(tmp_path: Path):
    root = _corpus_dir(tmp_path, ["s001", "s002"])
    spec = {"seed": 13, "train": ["s001"], "calib": [], "dev": ["s002"], "reserve": ["s001"]}
    (tmp_path / "split.json").write_text(json.dumps(spec))
    with pytest.raises(InputError, match="more than one split"):
        load_authored(root, tmp_path / "split.json")


def test_split_json_round_trip_writes_reserve_only_when_there_is_one(tmp_path: Path):
    plain = Split(13, ("a",), ("b",), ("c",))
    assert "reserve" not in json.loads(plain.to_json())
    kept = Split(13, ("a",), ("b",), ("c",), ("d", "e"))
    (tmp_path / "s.json").write_text(kept.to_json())
    assert load_split(tmp_path / "s.json") == kept
