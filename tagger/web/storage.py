"""Files of a session on disk: the upload (under a generated name), results, and the content check.

An upload is never trusted by its name: text that parses with the project's transcript readers
is a transcript, anything else must decode as audio (PyAV probe of its first seconds).
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tagger.errors import AudioError, InputError
from tagger.types import Session, TaggedUtterance

TRANSCRIPT_EXTENSIONS = (".csv", ".tsv", ".txt", ".json", ".jsonl", ".vtt", ".srt")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".m4a", ".flac", ".ogg", ".oga", ".opus", ".webm", ".mp4", ".aac", ".wma",
                    ".mkv", ".mov")
PROBE_SECONDS = 2.0
CHUNK = 1024 * 1024
TAGGED = "tagged.jsonl"
INFO = "info.json"


class UploadTooLarge(InputError):
    """The upload is over ``--max-upload-mb``."""


@dataclass(frozen=True)
class CheckedUpload:
    """What the content check found: ``kind`` ``audio`` or ``transcript``, the stored file name and a summary."""

    kind: str
    stored_name: str
    summary: str  # e.g. "mp3 audio, 38 s" or "csv transcript, 25 utterances"


def safe_title(filename: str | None) -> str:
    """A display name from a client-supplied file name: base name only, printable, at most 120 characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = "".join(ch for ch in name if ch.isprintable() and ch not in "<>:\"|?*")
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:120] or "upload"


def session_dir(root: Path, session_id: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{32}", session_id):  # ids are generated; anything else is an attack or a bug
        raise ValueError(f"bad session id {session_id!r}")
    return root / session_id


def save_stream(chunks: Iterable[bytes], dest: Path, limit: int) -> int:
    """Write ``chunks`` to ``dest``, stopping with :class:`UploadTooLarge` past ``limit`` bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(dest, "wb") as fh:
        for chunk in chunks:
            n += len(chunk)
            if n > limit:
                fh.close()
                dest.unlink(missing_ok=True)
                raise UploadTooLarge(f"the file is larger than the {limit // 2**20} MiB upload limit "
                                     "(--max-upload-mb); split the recording or compress it (e.g. mp3, opus)")
            fh.write(chunk)
    return n


def read_chunks(fh: BinaryIO) -> Iterable[bytes]:
    while chunk := fh.read(CHUNK):
        yield chunk


def check_upload(raw: Path, title: str, therapist: tuple[str, ...] = ()) -> CheckedUpload:
    """Decide what ``raw`` holds and rename it to ``upload<ext>``; raise :class:`InputError` saying what is wrong.

    Error messages name the upload by ``title``, never by its path on the server.
    """
    size = raw.stat().st_size
    if size == 0:
        raw.unlink()
        raise InputError(f"{title}: the file is empty")
    with open(raw, "rb") as fh:
        head = fh.read(4096)
    try:
        if _looks_like_text(head):
            return _check_transcript(raw, title, therapist)
        return _check_audio(raw, title)
    except InputError as exc:
        raw.unlink(missing_ok=True)
        for p in raw.parent.glob("upload.*"):
            p.unlink()
        raise type(exc)(str(exc).replace(str(raw.parent) + "/", "").replace(str(raw), title)
                        .replace("upload.", f"{Path(title).stem}.")) from None


def _looks_like_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a multi-byte character cut at the end of the sample
    return True


def _check_transcript(raw: Path, title: str, therapist: tuple[str, ...]) -> CheckedUpload:
    from tagger.io.readers import read_transcript

    ext = Path(title).suffix.lower()
    dest = raw.with_name("upload" + (ext if ext in TRANSCRIPT_EXTENSIONS else ""))
    raw.rename(dest)
    sessions = read_transcript(dest, therapist=therapist)
    if len(sessions) != 1:
        raise InputError(f"{title} holds {len(sessions)} sessions; upload one session per file "
                         "(or use `tagger batch` for archives)")
    fmt = dest.suffix.lstrip(".") or "json/vtt"
    return CheckedUpload("transcript", dest.name, f"{fmt} transcript, {len(sessions[0].utterances)} utterances")


def _check_audio(raw: Path, title: str) -> CheckedUpload:
    import av

    hint = "upload a recording (wav, mp3, m4a, flac, ogg, webm, mp4) or a transcript (csv, txt, json, vtt, srt)"
    try:
        container = av.open(str(raw), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        raise AudioError(f"{title} is neither a transcript nor decodable audio; {hint}") from None
    with container:
        if not container.streams.audio:
            raise AudioError(f"{title} has no audio stream; {hint}")
        stream = container.streams.audio[0]
        decoded = 0.0
        try:
            for frame in container.decode(stream):
                decoded += frame.samples / max(frame.sample_rate or 1, 1)
                if decoded >= PROBE_SECONDS:
                    break
        except av.error.FFmpegError:
            pass
        if decoded <= 0:
            raise AudioError(f"{title}: no audio could be decoded; the file is corrupt or truncated; {hint}")
        fmt = container.format.name.split(",")[0]
        duration = container.duration / 1_000_000 if container.duration else None
    ext = Path(title).suffix.lower()
    dest = raw.with_name("upload" + (ext if ext in AUDIO_EXTENSIONS else ".audio"))
    raw.rename(dest)
    return CheckedUpload("audio", dest.name, f"{fmt} audio" + (f", {duration:.0f} s" if duration else ""))


def write_results(folder: Path, tagged: Iterable[TaggedUtterance], info: dict) -> None:
    """``tagged.jsonl`` (the ``tagger tag`` schema) and ``info.json`` (provenance), each written atomically."""
    from tagger.io.writers import atomic_writer, jsonl_lines

    with atomic_writer(folder / TAGGED) as fh:
        fh.writelines(jsonl_lines(tagged))
    with atomic_writer(folder / INFO) as fh:
        json.dump(info, fh, indent=1, ensure_ascii=False)


def read_tagged(folder: Path) -> list[TaggedUtterance]:
    from tagger.io.writers import read_tagged_jsonl

    path = folder / TAGGED
    return read_tagged_jsonl(path) if path.is_file() else []


def read_session_file(path: Path, therapist: tuple[str, ...]) -> Session:
    from tagger.io.readers import read_transcript

    return read_transcript(path, therapist=therapist)[0]


def remove_tree(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
