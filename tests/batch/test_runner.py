"""The batch run with a fake engine (no model): resume, re-annotation, errors, audio staging, outputs."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from batch_helpers import FakeEngine, partial_files, tree_bytes, write_bad_inputs, write_small_transcripts

import tagger.batch.runner as runner
from tagger.batch import BatchOptions, run_batch
from tagger.batch.work import AUDIO_MISSING, AsrJob, Worker, WorkerSpec
from tagger.pipeline import PipelineConfig


def options(inp: Path, out: Path, model: Path, **kw) -> BatchOptions:
    return BatchOptions(input=str(inp), outdir=out, pipeline=PipelineConfig(model_dir=str(model)), progress=False,
                        **{"group_size": 4, **kw})


def test_resume_after_a_crash_inside_a_group_is_identical(tmp_path: Path, fake_model: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 10, utterances=4)
    ref = run_batch(options(inp, tmp_path / "ref", fake_model), FakeEngine())
    assert ref.tagged == 10 and ref.ok

    real = runner.write_item_outputs
    calls = {"n": 0}

    def crash_on_sixth(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 6:  # the 2nd input of the 2nd group: that group is half written
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(runner, "write_item_outputs", crash_on_sixth)
    with pytest.raises(KeyboardInterrupt):
        run_batch(options(inp, tmp_path / "out", fake_model), FakeEngine())
    monkeypatch.setattr(runner, "write_item_outputs", real)
    assert len(list((tmp_path / "out" / "sessions").glob("*.jsonl"))) == 5

    engine = FakeEngine()
    rep = run_batch(options(inp, tmp_path / "out", fake_model), engine)
    assert (rep.already_done, rep.tagged) == (5, 5)
    assert [c for c in engine.calls if c[0] == "classify"] == [("classify", 1), ("classify", 2)]  # group 0 skipped
    assert tree_bytes(tmp_path / "out") == tree_bytes(tmp_path / "ref")
    assert partial_files(tmp_path / "out") == []
    lines = (tmp_path / "out" / "dataset.jsonl").read_text().splitlines()
    keys = [(json.loads(x)["session_id"], json.loads(x)["utterance_id"]) for x in lines]
    assert len(keys) == len(set(keys)) == 40  # no duplicates


def test_changed_content_and_new_model_reannotate(tmp_path: Path, fake_model: Path) -> None:
    inp = tmp_path / "in"
    files = write_small_transcripts(inp, 6, utterances=4)
    out = tmp_path / "out"
    run_batch(options(inp, out, fake_model), FakeEngine())
    before = tree_bytes(out)

    rep = run_batch(options(inp, out, fake_model), FakeEngine())
    assert (rep.already_done, rep.tagged) == (6, 0) and tree_bytes(out) == before

    with files[1].open(newline="") as fh:
        rows = list(csv.reader(fh))
    rows[1][3] += " (edited)"
    with files[1].open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    engine = FakeEngine()
    rep = run_batch(options(inp, out, fake_model), engine)
    assert (rep.already_done, rep.tagged) == (5, 1)
    after = tree_bytes(out)
    changed = {k for k in before if before[k] != after[k]}
    assert f"sessions/{files[1].stem}.jsonl" in changed
    assert not {f"sessions/{f.stem}.jsonl" for i, f in enumerate(files) if i != 1} & changed

    (fake_model / "adapter.safetensors").write_bytes(b"weights v2")
    rep = run_batch(options(inp, out, fake_model), FakeEngine())
    assert (rep.already_done, rep.tagged) == (0, 6)


def test_bad_inputs_are_reported_and_not_retried_unless_asked(tmp_path: Path, fake_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 3, utterances=4)
    reasons = write_bad_inputs(inp)
    out = tmp_path / "out"
    rep = run_batch(options(inp, out, fake_model), FakeEngine())
    assert (rep.tagged, rep.failed, rep.ok) == (3, 4, False)
    with (out / "errors.csv").open() as fh:
        errors = {r["source"]: r for r in csv.DictReader(fh)}
    assert set(errors) == set(reasons)
    for src, why in reasons.items():
        assert why in errors[src]["message"] and errors[src]["stage"] == "read"
        assert errors[src]["message"].startswith(f"{src}: ")  # the path as given, not where the run was started
    assert rep.sessions == 3

    rep = run_batch(options(inp, out, fake_model), FakeEngine())
    assert (rep.already_done, rep.tagged, rep.failed) == (3, 0, 4)
    (inp / "unknown_speaker.txt").write_text("Therapist: hello there\nClient: hi\n")  # fixed: retried
    engine = FakeEngine()
    rep = run_batch(options(inp, out, fake_model), engine)
    assert (rep.tagged, rep.failed) == (1, 3)
    rep = run_batch(options(inp, out, fake_model, retry_failed=True), FakeEngine())
    assert (rep.tagged, rep.failed) == (0, 3)


def test_one_failing_input_does_not_stop_its_group_and_is_retried(tmp_path: Path, fake_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 4, utterances=6)
    victim = sorted(inp.glob("*.csv"))[2]
    word = victim.read_text().splitlines()[1].split(",", 3)[3].split()[1]
    rep = run_batch(options(inp, tmp_path / "out", fake_model), FakeEngine(fail_text=word))
    assert rep.failed >= 1 and rep.tagged == 4 - rep.failed
    rep = run_batch(options(inp, tmp_path / "out", fake_model), FakeEngine())
    assert rep.failed == 0 and rep.ok  # a classification failure may pass next time: retried


def test_audio_is_transcribed_first_and_once(tmp_path: Path, fake_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 3, utterances=4)
    (inp / "rec1.wav").write_text("Hello, how are you?|Not great.|Tell me more.")
    (inp / "rec2.mp3").write_text("Shall we start?|Sure.")
    (inp / "silent.flac").write_text("no speech")
    engine = FakeEngine()
    rep = run_batch(options(inp, tmp_path / "out", fake_model, group_size=2), engine)
    stages = [c[0] for c in engine.calls]
    assert stages == ["asr"] * 3 + ["classify"] * 3  # stage-major: every recording before any classification
    assert (rep.tagged, rep.failed) == (5, 1)
    assert json.loads((tmp_path / "out" / "sessions" / "rec1.jsonl").read_text().splitlines()[2])["text"] == \
        "Tell me more."
    (tmp_path / "out" / "sessions" / "rec2.jsonl").unlink()  # lost output: redone from the cached transcript
    engine = FakeEngine()
    rep = run_batch(options(inp, tmp_path / "out", fake_model, group_size=2), engine)
    assert rep.tagged == 1 and [c[0] for c in engine.calls] == ["classify"]


def test_audio_without_audio_support_is_an_error_retried_later(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tagger.audio.transcribe", None)  # import fails
    res = Worker(WorkerSpec(PipelineConfig())).transcribe(AsrJob(0, "x.wav", "x.wav"))
    assert res["error"]["message"].startswith(AUDIO_MISSING) and res["error"]["retry"] is True


def test_combined_outputs(tmp_path: Path, fake_model: Path) -> None:
    pd = pytest.importorskip("pandas")
    data = tmp_path / "data"
    write_small_transcripts(data, 3, utterances=6)
    names = sorted(p.name for p in data.glob("*.csv"))
    (tmp_path / "m.csv").write_text("path,clinic\n" + "".join(f"data/{n},c{i}\n" for i, n in enumerate(names)))
    multi = tmp_path / "data" / "multi.csv"
    multi.write_text("session_id,utterance_id,speaker,text\nA,0,therapist,Hi there.\nA,1,client,Hello.\n"
                     "B,0,therapist,How was the week?\nB,1,client,Fine.\n")
    with (tmp_path / "m.csv").open("a") as fh:
        fh.write("data/multi.csv,c9\n")
    out = tmp_path / "out"
    rep = run_batch(options(tmp_path / "m.csv", out, fake_model), FakeEngine())
    assert (rep.sessions, rep.utterances) == (5, 22)
    assert (out / "sessions" / "data" / "multi__A.jsonl").is_file()
    assert (out / "sessions" / "data" / "multi__B.jsonl").is_file()

    rows = [json.loads(x) for x in (out / "dataset.jsonl").read_text().splitlines()]
    assert rows[0]["source"] == f"data/{names[0]}" and rows[0]["metadata"] == {"clinic": "c0"}
    df = pd.read_parquet(out / "dataset.parquet")
    assert len(df) == 22 and list(df["session_id"].unique())[-2:] == ["A", "B"]
    assert {"score_open_question", "score_change_talk", "score_risk_indicator", "meta_clinic"} <= set(df.columns)
    first = json.loads((out / "sessions" / f"data/{Path(names[0]).stem}.jsonl").read_text().splitlines()[0])
    assert df.iloc[0]["score_" + next(iter(first["scores"]))] == pytest.approx(next(iter(first["scores"].values())))

    summary = pd.read_csv(out / "summary.csv")
    assert list(summary["session_id"])[-2:] == ["A", "B"] and len(summary) == 5
    assert {"r_q", "pct_cr", "mi_adherent", "mi_non_adherent", "pct_change_talk", "risk_flags", "n_open_question",
            "n_change_talk", "meta_clinic"} <= set(summary.columns)
    s0 = [r for r in rows if r["session_id"] == summary.iloc[0]["session_id"]]
    assert summary.iloc[0]["utterances"] == len(s0)
    assert summary.iloc[0]["n_other"] == sum("other" in r["codes"] for r in s0)
    assert summary.iloc[0]["risk_flags"] == sum(r["risk_indicator"] for r in s0)

    # the same MITI numbers as the note's appendix (one definition: tagger.evaluation.miti)
    note_miti = pytest.importorskip("tagger.note.miti")
    from tagger.types import TaggedUtterance

    m = note_miti.miti_summary([TaggedUtterance.from_record(r) for r in s0])
    for col in ("r_q", "pct_cr", "pct_change_talk"):
        want = getattr(m, col)
        got = summary.iloc[0][col]
        assert (want is None and pd.isna(got)) or got == pytest.approx(want, abs=1e-4)
    assert summary.iloc[0]["mi_adherent"] == m.mi_adherent

    # a multi-session input that becomes single-session: its old outputs go
    multi.write_text("session_id,utterance_id,speaker,text\nA,0,therapist,Hi there.\nA,1,client,Hello.\n")
    run_batch(options(tmp_path / "m.csv", out, fake_model), FakeEngine())
    assert (out / "sessions" / "data" / "multi.jsonl").is_file()
    assert not (out / "sessions" / "data" / "multi__B.jsonl").exists()


def test_two_inputs_never_share_an_output(tmp_path: Path, fake_model: Path) -> None:
    inp = tmp_path / "in"
    inp.mkdir()
    (inp / "a.csv").write_text("session_id,utterance_id,speaker,text\nx,0,therapist,Hi.\ny,0,therapist,Hello.\n")
    (inp / "a__x.csv").write_text("session_id,utterance_id,speaker,text\nz,0,therapist,Hey.\n")
    out = tmp_path / "out"
    rep = run_batch(options(inp, out, fake_model), FakeEngine())
    assert (rep.tagged, rep.failed) == (1, 1)
    assert "already the output of a.csv" in (out / "errors.csv").read_text()
    assert json.loads((out / "sessions" / "a__x.jsonl").read_text())["session_id"] == "x"


def test_a_model_that_cannot_load_stops_the_run_without_marking_inputs(tmp_path: Path, fake_model: Path) -> None:
    from batch_helpers import batch_main

    inp = tmp_path / "in"
    write_small_transcripts(inp, 2, utterances=2)
    out = tmp_path / "out"
    assert batch_main([str(inp), "-o", str(out), "--model", str(fake_model), "-q"]) == 3  # base model "none"
    assert not list((out / ".tagger-batch" / "items").iterdir())  # nothing recorded as failed: a re-run retries all


def test_worker_layout_is_one_rule_for_both_engines() -> None:
    from tagger.batch.work import worker_layout

    assert worker_layout(2, None, None) == (1, 2)  # small machine: this process, every core
    assert worker_layout(16, None, None) == (4, 4)
    assert worker_layout(16, 2, None) == (2, 8)
    assert worker_layout(16, None, 1) == (16, 1)
    assert worker_layout(2, 3, None) == (3, 1)
