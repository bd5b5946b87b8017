"""`tagger run`: recording or transcript in, transcript + tagged JSONL + note out (real models)."""

from __future__ import annotations

import json

from tagger.cli import main


def test_run_on_the_sample_recording(data_samples, tmp_path):
    out = tmp_path / "run"
    rc = main(["run", str(data_samples / "session_audio.mp3"), "-o", str(out), "--note", "md", "--note", "json", "-q"])
    assert rc == 0
    sid = "session_audio"
    doc = json.loads((out / f"{sid}.transcript.json").read_text())
    utts = doc["session"]["utterances"]
    assert {u["speaker"] for u in utts} == {"therapist", "client"}
    assert all(u["start"] is not None and u["end"] >= u["start"] for u in utts)
    assert doc["transcription"]["role_source"] == "model"
    tagged = [json.loads(x) for x in (out / f"{sid}.tagged.jsonl").read_text().splitlines()]
    assert [t["utterance_id"] for t in tagged] == [u["utterance_id"] for u in utts]
    assert all(t["start"] is not None for t in tagged)
    note = (out / f"{sid}.note.md").read_text()
    assert "[clinician to complete]" in note
    assert json.loads((out / f"{sid}.note.json").read_text())


def test_run_on_a_transcript_without_note(data_samples, tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(data_samples / "dbt_session.json"),
                "-o",
                str(out),
                "--note",
                "none",
                "-q",
                "--backend",
                "torch",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["dbt_skills_01.tagged.jsonl", "dbt_skills_01.transcript.json"]


def test_run_rejects_silence(tmp_path, capsys):
    import wave

    path = tmp_path / "silence.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x00" * 16000 * 3)
    assert main(["run", str(path), "-o", str(tmp_path / "o"), "-q"]) != 0
    assert "silent" in capsys.readouterr().err.lower()
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())  # no empty "success"
