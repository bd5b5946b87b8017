"""The whole audio pipeline on generated two-voice sessions, and the `tagger transcribe` CLI."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from audio_helpers import hypothesis_turns, reference_turns

from tagger.audio.score import score_session

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data_samples" / "session_audio.mp3"


def test_two_voice_session_meets_the_accuracy_targets(transcribed) -> None:
    synth_session, session, info = transcribed
    score = score_session(reference_turns(synth_session), hypothesis_turns(session))
    assert score.wer <= 0.10, score
    assert score.attribution >= 0.95, score
    assert score.therapist_correct, score
    assert info.num_speakers == 2 and info.diarization == "voice"
    assert info.role_source == "model" and info.role_confidence >= 0.8


def test_session_is_time_ordered_with_roles_and_provenance(transcribed) -> None:
    synth_session, session, info = transcribed
    utts = session.utterances
    assert utts and session.session_id == synth_session.path.stem
    assert [u.utterance_id for u in utts] == [str(i) for i in range(len(utts))]
    assert all(u.start is not None and u.end is not None and u.start <= u.end for u in utts)
    assert all(a.start <= b.start for a, b in zip(utts, utts[1:], strict=False))
    assert all(u.end <= info.duration + 0.5 for u in utts)
    assert {u.speaker for u in utts} == {"therapist", "client"}
    assert {u.speaker_label for u in utts} == {s.label for s in info.speakers}
    therapist = [s for s in info.speakers if s.role == "therapist"]
    assert len(therapist) == 1 and therapist[0].label == info.therapist_speaker
    d = info.to_dict()
    assert d["asr_model"] == "tiny.en" and d["compute_type"] in ("int8", "float16") and d["batched"] is False
    assert d["options"]["beam_size"] == 5 and set(d["timings"]) == {"decode", "asr", "diarize", "roles"}
    json.dumps(d)


def test_progress_reaches_every_stage(synth) -> None:
    from tagger.audio.options import TranscribeOptions
    from tagger.audio.transcribe import STAGES, transcribe

    seen: list[tuple[str, float]] = []
    path = synth("s05_smoking", ".flac", turns=4).path
    session, info = transcribe(
        path, TranscribeOptions(therapist_speaker="SPEAKER_1"), progress=lambda s, f: seen.append((s, f))
    )
    assert [s for s in STAGES if (s, 1.0) in seen] == list(STAGES)
    assert all(0.0 <= f <= 1.0 for _, f in seen)
    # The override wins over the role model.
    assert info.role_source == "override" and info.therapist_speaker == "SPEAKER_1"
    assert all((u.speaker == "therapist") == (u.speaker_label == "SPEAKER_1") for u in session.utterances)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tagger.cli", "transcribe", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)  # fmt: skip


def test_cli_transcribes_the_bundled_sample(tmp_path: Path) -> None:
    assert SAMPLE.is_file() and SAMPLE.stat().st_size < 1_000_000
    out, info = tmp_path / "t.csv", tmp_path / "info.json"
    r = _cli(str(SAMPLE), "-o", str(out), "--info", str(info))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert rows and set(rows[0]) >= {"session_id", "utterance_id", "speaker", "text", "speaker_label", "start", "end"}
    assert {r["speaker"] for r in rows} == {"therapist", "client"}
    reference = list(csv.DictReader((ROOT / "data_samples" / "session_audio.reference.csv").open()))
    ref = [("T" if r["speaker"] == "therapist" else "C", r["speaker"], r["text"]) for r in reference]
    hyp = [(r["speaker_label"], r["speaker"], r["text"]) for r in rows]
    score = score_session(ref, hyp)
    assert score.wer <= 0.15 and score.attribution >= 0.95 and score.therapist_correct, score
    assert json.loads(info.read_text())["speakers"]


def _missing(d: Path) -> Path:
    return d / "missing.wav"


def _zero_bytes(d: Path) -> Path:
    (d / "zero.wav").write_bytes(b"")
    return d / "zero.wav"


def _text_as_wav(d: Path) -> Path:
    (d / "notes.wav").write_text("not audio\n" * 50)
    return d / "notes.wav"


@pytest.mark.parametrize(
    "make,message", [(_missing, "not found"), (_zero_bytes, "empty"), (_text_as_wav, "cannot read")]
)
def test_cli_bad_input_is_one_line_and_exit_2(make, message, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from tagger.cli import main

    code = main(["transcribe", str(make(tmp_path)), "-q"])
    out, err = capsys.readouterr()
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tagger transcribe: error:") and message in lines[0]
    assert out == ""


def test_cli_unavailable_model_exit_3(short_clip: Path, capsys: pytest.CaptureFixture) -> None:
    from tagger.cli import main

    code = main(["transcribe", str(short_clip), "-q", "--asr-model", "/nonexistent/model"])
    err = capsys.readouterr().err
    assert code == 3 and "ASR model" in err and len(err.strip().splitlines()) == 1
