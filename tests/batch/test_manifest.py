"""Inputs -> work items: folders, globs, manifests; names, hashes, metadata and errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tagger.batch.manifest import discover, unique_names
from tagger.errors import InputError


def _touch(p: Path, text: str = "Therapist: hi\n") -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_folder_is_recursive_sorted_and_skips_hidden_other_and_outdir(tmp_path: Path) -> None:
    root = tmp_path / "in"
    for rel in ("b.txt", "a/z.vtt", "a/y.wav", "notes.md", ".hidden.csv", ".git/x.csv", "out/sessions/s.jsonl"):
        _touch(root / rel)
    m = discover(root, exclude=root / "out")
    assert [it.source for it in m.items] == ["a/y.wav", "a/z.vtt", "b.txt"]
    assert [it.kind for it in m.items] == ["audio", "transcript", "transcript"]
    assert [it.name for it in m.items] == ["a/y", "a/z", "b"]
    assert m.ignored == (str(root / "notes.md"),)
    assert m.items[2].sha256 == hashlib.sha256(b"Therapist: hi\n").hexdigest()


def test_glob(tmp_path: Path) -> None:
    for rel in ("x/1.csv", "x/2.csv", "y/3.csv", "y/4.txt"):
        _touch(tmp_path / rel)
    m = discover(str(tmp_path / "*" / "*.csv"))
    assert m.kind == "glob" and [it.source for it in m.items] == ["x/1.csv", "x/2.csv", "y/3.csv"]


def test_names_are_unique() -> None:
    assert unique_names(["a.csv", "a.txt", "b/c d.vtt", "e"]) == ["a_csv", "a_txt", "b/c_d", "e"]
    assert unique_names(["x.csv", "x.csv"]) == ["x_csv", "x_csv~2"]  # a manifest may list a file twice


def test_csv_manifest_with_metadata_and_options(tmp_path: Path) -> None:
    _touch(tmp_path / "data" / "s1.txt")
    _touch(tmp_path / "data" / "s2.csv")
    (tmp_path / "m.csv").write_text("path,site,therapist,session_id,week\n"
                                    "data/s1.txt,A,Ruth;Dr Lee,visit1,3\n"
                                    "data/s2.csv,B,,,\n"
                                    "data/missing.csv,C,,,\n")
    m = discover(tmp_path / "m.csv")
    assert m.kind == "manifest"
    a, b, c = m.items
    assert a.therapist == ("Ruth", "Dr Lee") and a.session_id == "visit1"
    assert a.metadata == (("site", "A"), ("week", "3")) and b.metadata == (("site", "B"),)
    assert c.sha256 is None and "no such file" in (c.problem or "")


def test_jsonl_manifest(tmp_path: Path) -> None:
    _touch(tmp_path / "s1.vtt", "WEBVTT\n")
    (tmp_path / "m.jsonl").write_text(json.dumps({"path": "s1.vtt", "clinic": "north", "week": 2}) + "\n")
    (item,) = discover(tmp_path / "m.jsonl").items
    assert item.source == "s1.vtt" and item.metadata == (("clinic", "north"), ("week", "2"))


def test_a_transcript_csv_is_not_a_manifest(tmp_path: Path) -> None:
    f = _touch(tmp_path / "t.csv", "session_id,utterance_id,speaker,text\n1,0,therapist,hi\n")
    m = discover(f)
    assert m.kind == "file" and m.items[0].source == "t.csv"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        discover(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no transcripts or recordings"):
        discover(tmp_path / "empty")
    (tmp_path / "m.csv").write_text("path,format\nx.doc,word\n")
    with pytest.raises(InputError, match="unknown format 'word'"):
        discover(tmp_path / "m.csv")
