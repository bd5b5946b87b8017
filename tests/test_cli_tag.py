"""`tagger tag` end to end with the shipped model on every sample format."""

from __future__ import annotations

import csv
import json

import pytest

from tagger.cli import main

SAMPLES = [
    ("cbt_session.csv", []),
    ("mi_session.txt", []),
    ("couples_session.txt", ["--therapist", "Ruth"]),
    ("dbt_session.json", []),
    ("grief_session.vtt", []),
    ("panic_session.srt", []),
]
FIELDS = {
    "session_id",
    "utterance_id",
    "speaker",
    "speaker_label",
    "text",
    "start",
    "end",
    "codes",
    "scores",
    "main_behaviour",
    "client_talk",
    "risk_indicator",
}


@pytest.mark.parametrize(("name", "extra"), SAMPLES)
def test_tag_every_sample_format(data_samples, tmp_path, name, extra):
    out = tmp_path / "out.jsonl"
    assert main(["tag", str(data_samples / name), "-o", str(out), "--backend", "torch", *extra]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert recs
    for r in recs:
        assert FIELDS <= r.keys()
        assert r["speaker"] in ("therapist", "client")
        assert (r["main_behaviour"] is None) == (r["speaker"] == "client")
        assert (r["client_talk"] is None) == (r["speaker"] == "therapist")


def test_tag_annomi_format(annomi_slice, tmp_path):
    """AnnoMI's own CSV (read from the shared folder, never copied into the repo) is detected and tagged."""
    out = tmp_path / "annomi.jsonl"
    assert main(["tag", str(annomi_slice), "-o", str(out)]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    with annomi_slice.open(newline="") as fh:
        assert len(recs) == len(list(csv.DictReader(fh)))
    for r in recs:
        assert FIELDS <= r.keys() and r["speaker"] in ("therapist", "client")


def test_csv_ids_and_order_are_kept(data_samples, tmp_path):
    """The default path (ONNX int8 on CPU) keeps the input's session and utterance ids, in order."""
    out = tmp_path / "cbt.jsonl"
    assert main(["tag", str(data_samples / "cbt_session.csv"), "-o", str(out)]) == 0
    with (data_samples / "cbt_session.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["session_id"], r["utterance_id"]) for r in recs] == [(r["session_id"], r["utterance_id"]) for r in rows]
    assert [r["text"] for r in recs] == [r["text"] for r in rows]
    assert recs[0]["start"] == float(rows[0]["start"])


def test_stdout_output(data_samples, capsys):
    assert main(["tag", str(data_samples / "mi_session.txt"), "-o", "-", "--backend", "torch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(json.loads(x)["session_id"] == "mi_session" for x in lines)


def test_named_speakers_need_therapist(data_samples, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["tag", str(data_samples / "couples_session.txt"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert "unknown speaker" in err and "--therapist" in err
    assert not out.exists()


def test_missing_model_is_a_clear_error(data_samples, tmp_path, capsys):
    out = tmp_path / "x.jsonl"
    assert main(["tag", str(data_samples / "cbt_session.csv"), "-o", str(out), "--model", str(tmp_path / "none")]) == 3
    assert "no model installed" in capsys.readouterr().err
    assert not out.exists()


def test_bad_input_file(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("session_id,utterance_id,speaker,text\ns,1,narrator,Hello\n")
    assert main(["tag", str(bad), "-o", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "narrator" in err


def test_tagging_in_groups_matches_one_call(data_samples):
    """`tagger tag` streams groups of whole sessions (flat memory); the labels do not depend on the grouping."""
    from tagger.pipeline import Pipeline, session_groups

    pipe = Pipeline()
    names = ("cbt_session.csv", "mi_session.txt", "dbt_session.json")
    sessions = [s for name in names for s in pipe.read(data_samples / name)]
    sizes = [len(s.utterances) for s in sessions]
    assert [len(g) for g in session_groups(sessions, min(sizes))] == [1] * len(sessions)
    whole = pipe.tag(sessions)
    seen: list[tuple[int, int]] = []
    grouped = list(pipe.tag_iter(sessions, lambda stage, d, t: seen.append((d, t)), group_utterances=min(sizes)))
    assert [r.session.session_id for r in grouped] == [s.session_id for s in sessions]
    for a, b in zip(whole, grouped, strict=True):
        assert [set(u.codes) for u in a.tagged] == [set(u.codes) for u in b.tagged]  # order: by score
        for ua, ub in zip(a.tagged, b.tagged, strict=True):
            assert ua.scores.keys() == ub.scores.keys()
            assert max(abs(ua.scores[k] - ub.scores[k]) for k in ua.scores) < 1e-5
    assert seen[-1] == (sum(sizes), sum(sizes)) and [d for d, _ in seen] == sorted(d for d, _ in seen)
