from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from note_helpers import FIXTURES

from tagger.commands import note as note_cmd
from tagger.errors import InputError


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="tagger")
    note_cmd.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["note", *argv])
    return args.handler(args)


def test_note_command_writes_every_type(tmp_path: Path) -> None:
    outs = [tmp_path / f"n.{ext}" for ext in ("md", "json", "html", "pdf")]
    argv = [str(FIXTURES / "mi_alcohol.jsonl"), "--format", "dap", "--model-name", "tagger-minilm 0.1"]
    assert run(*argv, *[a for o in outs for a in ("-o", str(o))]) == 0
    assert all(o.is_file() for o in outs)
    data = json.loads(outs[1].read_text(encoding="utf-8"))
    assert data["format"] == "dap" and data["header"]["model"] == "tagger-minilm 0.1"
    assert data["header"]["source"] == "mi_alcohol.jsonl"


def test_markdown_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(str(FIXTURES / "cbt_depression.jsonl"), "--format", "birp") == 0
    assert capsys.readouterr().out.startswith("# BIRP progress note (draft)")


def test_several_sessions_give_one_file_each(tmp_path: Path) -> None:
    both = tmp_path / "both.jsonl"
    both.write_text("".join((FIXTURES / f).read_text(encoding="utf-8") for f in ("cbt_depression.jsonl",
                                                                                  "mi_alcohol.jsonl")))
    assert run(str(both), "-o", str(tmp_path / "note.md")) == 0
    assert sorted(p.name for p in tmp_path.glob("note.*")) == ["note.s-cbt-01.md", "note.s-mi-02.md"]
    assert run(str(both), "--session", "s-mi-02", "-o", str(tmp_path / "one.html")) == 0
    assert (tmp_path / "one.html").is_file()
    with pytest.raises(InputError, match="several|sessions"):
        run(str(both))
    with pytest.raises(InputError, match="not in the input"):
        run(str(both), "--session", "nope", "-o", str(tmp_path / "x.md"))


def test_user_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        run(str(tmp_path / "missing.jsonl"))
    with pytest.raises(InputError, match="output type"):
        run(str(FIXTURES / "mi_alcohol.jsonl"), "-o", str(tmp_path / "note.docx"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"speaker": "client"}\n')
    with pytest.raises(InputError, match="line 1"):
        run(str(bad))
    with pytest.raises(InputError, match="--deidentify"):
        run(str(FIXTURES / "mi_alcohol.jsonl"), "--deidentified-jsonl", str(tmp_path / "d.jsonl"))


@pytest.mark.skipif("note" not in __import__("tagger.cli").cli.COMMANDS, reason="`note` not yet in tagger.cli.COMMANDS")
def test_through_the_tagger_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tagger.cli import main

    out = tmp_path / "n.pdf"
    assert main(["note", str(FIXTURES / "risk_unassessed.jsonl"), "--format", "soap", "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"%PDF-")
    assert main(["note", str(tmp_path / "missing.jsonl")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tagger note: error:") and "no such file" in err[-1]
