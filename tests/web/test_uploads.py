"""Bad uploads are refused with a 4xx that names the problem; file names never reach the file system."""

from __future__ import annotations

import io
import math
import struct
import wave
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_helpers import WebEnv, make_users, web_settings

from tagger.web import create_app


def post(web: WebEnv, name: str, content: bytes, **form: str):
    return web.client.post("/api/sessions", headers=web.auth("alice"), files={"file": (name, io.BytesIO(content))},
                           data=form)


def wav_bytes(seconds: float, amplitude: float) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        n = int(seconds * 16000)
        w.writeframes(b"".join(struct.pack("<h", int(amplitude * 32767 * math.sin(i / 10))) for i in range(n)))
    return buf.getvalue()


@pytest.mark.parametrize(("name", "content", "message"), [
    ("empty.csv", b"", "empty"),
    ("noise.mp3", bytes(range(256)) * 64, "neither a transcript nor decodable audio"),
    ("picture.wav", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2000, "no audio stream"),
    ("notes.txt", b"just some words without speakers\n", "notes.txt"),
    ("two.csv", b"session_id,utterance_id,speaker,text\na,1,therapist,Hi\nb,1,client,Hello\n", "2 sessions"),
    ("names.txt", b"Maria: I feel low.\nDr Lee: Tell me more.\n", "unknown speaker"),
])
def test_bad_content_is_refused(web: WebEnv, name: str, content: bytes, message: str) -> None:
    r = post(web, name, content)
    assert r.status_code == 422, r.text
    assert message in r.json()["detail"]
    assert str(web.settings.data_dir) not in r.json()["detail"]  # no server paths in messages
    assert list(web.settings.uploads_dir.iterdir()) == []  # nothing kept


def test_content_decides_not_the_extension(web: WebEnv, data_samples: Path) -> None:
    """A recording named .csv is probed as audio and accepted; a transcript named .mp3 is not audio."""
    r = post(web, "recording.csv", (data_samples / "session_audio.mp3").read_bytes())
    assert r.status_code == 201 and r.json()["kind"] == "audio"
    r = post(web, "transcript.mp3", (data_samples / "cbt_session.csv").read_bytes())
    assert r.status_code == 422


def test_therapist_names_and_options(web: WebEnv) -> None:
    r = post(web, "names.txt", b"Maria: I feel low.\nDr Lee: Tell me more.\n", therapist="Dr Lee")
    assert r.status_code == 201, r.text
    assert post(web, "x.txt", b"T: hi\nC: hello\n", note_format="essay").status_code == 422


def test_file_names_are_sanitized(web: WebEnv, data_samples: Path) -> None:
    r = post(web, "../../../etc/<b>evil</b>.csv", (data_samples / "cbt_session.csv").read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["title"] == "b.csv"  # base name only, markup characters dropped
    stored = [p.name for p in (web.settings.uploads_dir / r.json()["id"]).iterdir()]
    assert stored == ["upload.csv"]
    assert not (web.settings.data_dir.parent / "etc").exists()


def test_size_limit_while_streaming(tmp_path: Path, data_samples: Path) -> None:
    settings = web_settings(tmp_path / "data", max_upload_mb=1)
    tokens = make_users(settings)
    with TestClient(create_app(settings, start_worker=False)) as client:
        headers = {"Authorization": f"Bearer {tokens['alice']}"}
        big = b"T: " + b"word " * 300_000 + b"\n"
        r = client.post("/api/sessions", headers=headers, files={"file": ("big.txt", io.BytesIO(big))})
        assert r.status_code == 413 and "upload limit" in r.json()["detail"]

        def chunked():  # no Content-Length: the limit is enforced while the body streams in
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n\r\n"
            for _ in range(40):
                yield b"T: " + b"x" * 65536 + b"\n"
            yield b"\r\n--b--\r\n"

        r = client.post("/api/sessions", headers={**headers, "Content-Type": "multipart/form-data; boundary=b"},
                        content=chunked())
        assert r.status_code == 413
        assert list(settings.uploads_dir.iterdir()) == []
        ok = (data_samples / "cbt_session.csv").read_bytes()
        assert client.post("/api/sessions", headers=headers, files={"file": ("ok.csv", io.BytesIO(ok))}
                           ).status_code == 201


def test_silent_recording_fails_with_reason_and_can_be_retried(web: WebEnv) -> None:
    r = post(web, "silence.wav", wav_bytes(3.0, 0.0))
    assert r.status_code == 201, r.text  # it decodes: only processing finds it silent
    sid = r.json()["id"]
    s = web.wait(sid)
    assert s["status"] == "failed" and "silent" in s["error"]
    page = web.client.get(f"/api/sessions/{sid}", headers=web.auth("alice")).json()
    assert page["error"] == s["error"]
    r = web.client.post(f"/api/sessions/{sid}/retry", headers=web.auth("alice"))
    assert r.status_code == 200 and r.json()["status"] == "queued"
    s = web.wait(sid)
    assert s["status"] == "failed" and s["attempts"] == 1
