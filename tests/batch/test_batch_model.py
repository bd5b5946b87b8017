"""`tagger batch` with the shipped model: mixed good and bad inputs, and agreement with `tagger tag`."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from batch_helpers import DATA_SAMPLES, batch_main, partial_files, write_bad_inputs, write_small_transcripts


def test_mixed_good_and_bad_inputs(tmp_path: Path, shipped_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp / "authored", 3, utterances=6)
    for name in ("mi_session.txt", "grief_session.vtt", "dbt_session.json"):
        shutil.copy(DATA_SAMPLES / name, inp / name)
    reasons = write_bad_inputs(inp / "bad")
    out = tmp_path / "out"
    rc = batch_main([str(inp), "-o", str(out), "--group-size", "2"])
    assert rc == 1  # some inputs failed
    err = capsys.readouterr().err
    assert "6 tagged now" in err and "4 failed" in err and "errors.csv" in err
    with (out / "errors.csv").open() as fh:
        errors = {r["source"]: r["message"] for r in csv.DictReader(fh)}
    assert {f"bad/{k}" for k in reasons} == set(errors)
    for k, why in reasons.items():
        assert why in errors[f"bad/{k}"]
    outputs = sorted(p.relative_to(out / "sessions").as_posix() for p in (out / "sessions").rglob("*.jsonl"))
    assert outputs == ["authored/s001.jsonl", "authored/s002.jsonl", "authored/s003.jsonl", "dbt_session.jsonl",
                       "grief_session.jsonl", "mi_session.jsonl"]
    n_records = sum(len((out / "sessions" / o).read_text().splitlines()) for o in outputs)
    assert len((out / "dataset.jsonl").read_text().splitlines()) == n_records
    with (out / "summary.csv").open() as fh:
        summary = list(csv.DictReader(fh))
    assert len(summary) == 6 and all(r["r_q"] != "" or r["therapist_utterances"] == "0" for r in summary[:1])
    try:
        import tagger.note  # noqa: F401
    except ImportError:
        pass
    else:  # notes are on by default when the note builder is installed
        assert (out / "notes" / "mi_session.soap.md").read_text().startswith("# SOAP")
    info = json.loads((out / "run.json").read_text())
    assert info["tagged"] == 6 and info["failed"] == 4 and info["model_version"]
    assert partial_files(out) == []

    rc = batch_main([str(inp), "-o", str(out), "--group-size", "2", "-q"])  # nothing left to do
    assert rc == 1 and json.loads((out / "run.json").read_text())["already_done"] == 6


def test_group_of_one_equals_tagger_tag(tmp_path: Path, shipped_model: Path) -> None:
    """Per input, a batch gives what `tagger tag` gives for the file (with groups of one input)."""
    from tagger.io.writers import jsonl_lines
    from tagger.pipeline import Pipeline, PipelineConfig

    inp = tmp_path / "in"
    inp.mkdir()
    for name in ("cbt_session.csv", "panic_session.srt"):
        shutil.copy(DATA_SAMPLES / name, inp / name)
    out = tmp_path / "out"
    assert batch_main([str(inp), "-o", str(out), "--group-size", "1", "--note", "none", "-q"]) == 0
    pipe = Pipeline(PipelineConfig(model_dir=str(shipped_model)))
    for name in ("cbt_session.csv", "panic_session.srt"):
        want = "".join(jsonl_lines(t for r in pipe.tag_file(inp / name) for t in r.tagged))
        assert (out / "sessions" / f"{Path(name).stem}.jsonl").read_text() == want
