"""Writers: atomic files and the JSONL round-trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.io.writers import atomic_writer, read_tagged_jsonl, write_jsonl
from tagger.types import TaggedUtterance, Utterance


def _tagged() -> list[TaggedUtterance]:
    t = Utterance("s1", "0", "therapist", "Before next week, could you jot those thoughts down?", "Dr Lee", 1.0, 4.5)
    c = Utterance(
        "s1", "1", "client", "Sometimes I think everyone would be better off without me. Ünïcödé.", "Sam", 5.0
    )
    return [
        TaggedUtterance(
            t,
            ("homework", "closed_question"),
            {"homework": 0.91, "closed_question": 0.62, "other": 0.01},
            main_behaviour="question",
            review=("closed_question",),
        ),
        TaggedUtterance(
            c,
            ("neutral", "risk_indicator"),
            {"neutral": 0.8, "change_talk": 0.1, "sustain_talk": 0.1, "risk_indicator": 0.88},
            client_talk="neutral",
            risk_indicator=True,
            evidence={"risk_indicator": "Sometimes I think everyone would be better off without me."},
        ),
    ]


def test_jsonl_round_trip(tmp_path: Path):
    p = tmp_path / "out" / "tags.jsonl"  # the folder is created
    write_jsonl(_tagged(), p)
    lines = p.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and "Ünïcödé" in lines[1]  # UTF-8, not \u escapes
    assert json.loads(lines[0])["codes"] == ["homework", "closed_question"]
    assert read_tagged_jsonl(p) == _tagged()
    assert [f.name for f in p.parent.iterdir()] == ["tags.jsonl"]


def test_atomic_writer_leaves_nothing_on_exception(tmp_path: Path):
    p = tmp_path / "report.jsonl"
    with pytest.raises(RuntimeError):
        with atomic_writer(p) as fh:
            fh.write("half a line")
            raise RuntimeError("crash while writing")
    assert list(tmp_path.iterdir()) == []


def test_atomic_writer_keeps_old_file_on_exception(tmp_path: Path):
    p = tmp_path / "report.jsonl"
    p.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt):
        with atomic_writer(p) as fh:
            fh.write("new\n")
            raise KeyboardInterrupt
    assert p.read_text(encoding="utf-8") == "old\n"
    assert [f.name for f in tmp_path.iterdir()] == ["report.jsonl"]


def test_atomic_writer_replaces_and_binary(tmp_path: Path):
    p = tmp_path / "x.bin"
    p.write_bytes(b"old")
    with atomic_writer(p, "wb") as fh:
        fh.write(b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"


def test_dash_is_stdout(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    write_jsonl(_tagged()[:1], "-")
    out = capsys.readouterr().out
    assert json.loads(out)["utterance_id"] == "0"
    assert list(tmp_path.iterdir()) == []


def test_read_tagged_jsonl_bad_line(tmp_path: Path):
    p = tmp_path / "t.jsonl"
    good = json.dumps(_tagged()[0].to_record())
    p.write_text(
        good + "\n\n" + '{"session_id": "s", "utterance_id": "1", "speaker": "robot", "text": "x"}\n', encoding="utf-8"
    )
    with pytest.raises(InputError, match=r"t.jsonl: line 3: not a tagged-utterance record"):
        read_tagged_jsonl(p)
    p.write_text(good + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 2"):
        read_tagged_jsonl(p)
