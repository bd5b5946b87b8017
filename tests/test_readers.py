"""Transcript readers: every sample reads; malformed input fails with the line and the problem."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.io.readers import FORMATS, detect_format, read_transcript
from tagger.types import Session

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"

# file, --therapist, expected utterances, expected speaker labels, has start times, has end times
SAMPLE_FILES = [
    ("cbt_session.csv", (), 25, {"therapist", "client"}, True, True),
    ("mi_session.txt", (), 24, {"Therapist", "Client"}, False, False),
    ("couples_session.txt", ("Ruth",), 25, {"Ruth", "Sam", "Priya"}, True, False),
    ("dbt_session.json", (), 23, {"therapist", "client"}, True, True),
    ("grief_session.vtt", (), 23, {"Therapist", "Client"}, True, True),
    ("panic_session.srt", (), 20, {"Therapist", "Client"}, True, True),
    ("labeled_session.csv", (), 27, {"therapist", "client"}, False, False),
]


def test_every_sample_is_documented():
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name, *_ in SAMPLE_FILES:
        assert (SAMPLES / name).is_file() and f"`{name}`" in readme, name


@pytest.mark.parametrize(
    ("name", "therapist", "n", "labels", "starts", "ends"), SAMPLE_FILES, ids=[f[0] for f in SAMPLE_FILES]
)
def test_sample_reads(name, therapist, n, labels, starts, ends):
    sessions = read_transcript(SAMPLES / name, therapist=therapist)
    assert len(sessions) == 1
    s = sessions[0]
    assert isinstance(s, Session) and s.source
    assert 12 <= len(s.utterances) == n <= 30
    assert {u.speaker_label for u in s.utterances} == labels
    assert {u.speaker for u in s.utterances} == {"therapist", "client"}
    assert all(u.session_id == s.session_id for u in s.utterances)
    assert len({u.utterance_id for u in s.utterances}) == n
    assert all(u.text.strip() and u.text == u.text.strip() for u in s.utterances)
    assert all(u.parent_id is None for u in s.utterances)
    got_starts = [u.start for u in s.utterances if u.start is not None]
    assert bool(got_starts) == starts and len(got_starts) in (0, n)
    assert got_starts == sorted(got_starts)
    assert any(u.end is not None for u in s.utterances) == ends
    for a, b in zip(s.utterances, s.utterances[1:], strict=False):
        if a.end is not None and b.start is not None:
            assert a.end <= b.start, (a.utterance_id, b.utterance_id)


def test_csv_sample_fields():
    (s,) = read_transcript(SAMPLES / "cbt_session.csv")
    u = s.utterances[5]
    assert (s.session_id, u.utterance_id, u.speaker, u.start, u.end) == ("cbt_presentation", "5", "client", 30.5, 38.0)
    assert u.text.startswith("So on Tuesday my manager said she wanted a quick word, and")


def test_text_sample_joins_multiline_turn():
    (s,) = read_transcript(SAMPLES / "mi_session.txt")
    assert s.session_id == "mi_session"
    u = s.utterances[5]
    assert (u.utterance_id, u.speaker) == ("5", "client")
    assert u.text == (
        "Exactly. But, I don't know, I've been waking up rough a lot. And I missed my son's match on Saturday "
        "morning because I couldn't get out of bed. He didn't say anything, but I could tell he was gutted."
    )
    assert s.utterances[6].text.startswith("On one hand")


def test_named_speakers_and_timestamps():
    (s,) = read_transcript(SAMPLES / "couples_session.txt", therapist=["ruth"])  # names match case-insensitively
    roles = {u.speaker_label: u.speaker for u in s.utterances}
    assert roles == {"Ruth": "therapist", "Sam": "client", "Priya": "client"}
    assert [u.start for u in s.utterances[:3]] == [5.0, 14.0, 18.0]
    assert s.utterances[-1].start == 165.0
    assert s.utterances[12].text.startswith('I\'d like to try something. Priya, instead of "you always"')


def test_json_sample_keeps_metadata_and_ids():
    (s,) = read_transcript(SAMPLES / "dbt_session.json")
    assert s.session_id == "dbt_skills_01"
    assert dict(s.metadata)["modality"] == "DBT individual"
    assert s.utterances[7].speaker == "client" and "better off" in s.utterances[7].text


def test_vtt_sample_voice_tags():
    (s,) = read_transcript(SAMPLES / "grief_session.vtt")
    first, second = s.utterances[:2]
    assert (first.speaker, first.start, first.end) == ("therapist", 2.0, 7.35)
    assert second.speaker == "client" and "</v>" not in second.text and "<v" not in second.text
    assert not any("Invented sample" in u.text for u in s.utterances)  # the NOTE block is not a cue


def test_srt_sample_prefixes_and_comma_times():
    (s,) = read_transcript(SAMPLES / "panic_session.srt")
    u = s.utterances[0]
    assert (u.speaker, u.start, u.end) == ("therapist", 1.0, 7.78)
    assert u.text.startswith("On a scale of zero to ten") and not u.text.startswith("Therapist")


def test_annomi_is_detected_from_header(annomi_slice: Path):
    path = annomi_slice
    assert detect_format(path, path.read_text(encoding="utf-8")[:4096]) == "annomi"
    (s,) = read_transcript(path)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert s.session_id == rows[0]["transcript_id"] and len(s.utterances) == len(rows)

    def seconds(hms: str) -> float:
        h, m, sec = hms.split(":")
        return int(h) * 3600 + int(m) * 60 + float(sec)

    assert [u.start for u in s.utterances] == [seconds(r["timestamp"]) for r in rows]


def test_csv_with_several_sessions_keeps_order(tmp_path: Path):
    p = tmp_path / "two.csv"
    p.write_text(
        "session_id,utterance_id,speaker,text\nb,0,T,Hi.\na,0,therapist,Hello.\nb,1,C,Hey.\na,1,patient,Morning.\n",
        encoding="utf-8",
    )
    sessions = read_transcript(p)
    assert [s.session_id for s in sessions] == ["b", "a"]
    assert [u.speaker for u in sessions[0].utterances] == ["therapist", "client"]
    assert [u.speaker_label for u in sessions[1].utterances] == ["therapist", "patient"]


def test_bom_crlf_and_tsv(tmp_path: Path):
    p = tmp_path / "t.tsv"
    p.write_bytes("\ufeffsession_id\tutterance_id\tspeaker\ttext\r\ns\t0\tclient\tA, with a comma\r\n".encode())
    (s,) = read_transcript(p)
    assert s.utterances[0].text == "A, with a comma"


def test_jsonl_reads_tag_output(tmp_path: Path):
    p = tmp_path / "t.jsonl"
    p.write_text(
        '{"session_id": "s", "utterance_id": "0", "speaker": "therapist", "speaker_label": "Dr Lee", "text": "Hi.",'
        ' "start": 0.0, "end": 1.0, "codes": ["other"]}\n\n'
        '{"session_id": "s", "speaker": "C", "text": "Hello.", "start": "00:00:02"}\n',
        encoding="utf-8",
    )
    (s,) = read_transcript(p)
    assert [(u.utterance_id, u.speaker, u.speaker_label) for u in s.utterances] == [
        ("0", "therapist", "Dr Lee"),
        ("1", "client", "C"),
    ]
    assert s.utterances[1].start == 2.0


def test_format_override(tmp_path: Path):
    p = tmp_path / "session.log"
    p.write_text("T: Hi.\nC: Hello.\n", encoding="utf-8")
    (s,) = read_transcript(p, fmt="text")
    assert [u.speaker for u in s.utterances] == ["therapist", "client"]


def test_content_detection_without_extension(tmp_path: Path):
    p = tmp_path / "session"
    p.write_text("WEBVTT\n\n00:01.000 --> 00:02.500\n<v T>Hi.\n", encoding="utf-8")
    (s,) = read_transcript(p)
    assert (s.utterances[0].start, s.utterances[0].end) == (1.0, 2.5)


# --------------------------------------------------------------------------- malformed input

CSV_HEAD = "session_id,utterance_id,speaker,text\n"

# id, file name, content, therapist names, line in the message (None: about the whole file), problem text
MALFORMED = [
    (
        "csv-missing-columns",
        "a.csv",
        "session_id,speaker,text\ns,therapist,hi\n",
        (),
        1,
        "lacks column(s) utterance_id",
    ),
    ("csv-wrong-column-count", "a.csv", CSV_HEAD + "s,0,therapist,hi\ns,1,client,a,b\n", (), 3, "expected 4 columns"),
    ("csv-bad-speaker", "a.csv", CSV_HEAD + "s,0,therapist,hi\ns,1,nurse,hello\n", (), 3, "unknown speaker 'nurse'"),
    ("csv-empty-text", "a.csv", CSV_HEAD + "s,0,therapist,hi\ns,1,client,  \n", (), 3, "empty text"),
    ("csv-empty-id", "a.csv", CSV_HEAD + "s,,therapist,hi\n", (), 2, "must not be empty"),
    (
        "csv-duplicate-id",
        "a.csv",
        CSV_HEAD + "s,1,therapist,hi\ns,1,client,hello\n",
        (),
        3,
        "duplicate utterance_id '1'",
    ),
    ("csv-bad-time", "a.csv", CSV_HEAD.strip() + ",start\ns,0,therapist,hi,1:xx\n", (), 2, "cannot read time '1:xx'"),
    ("csv-nan-time", "a.csv", CSV_HEAD.strip() + ",start\ns,0,therapist,hi,nan\n", (), 2, "cannot read time 'nan'"),
    ("csv-negative-time", "a.csv", CSV_HEAD.strip() + ",start\ns,0,therapist,hi,-3\n", (), 2, "cannot read time '-3'"),
    (
        "csv-end-before-start",
        "a.csv",
        CSV_HEAD.strip() + ",start,end\ns,0,therapist,hi,10,5\n",
        (),
        2,
        "end 5.0 is before start 10.0",
    ),
    (
        "annomi-missing-column",
        "a.csv",
        "utterance_id,interlocutor,utterance_text\n0,therapist,hi\n",
        (),
        1,
        "lacks column(s) transcript_id",
    ),
    (
        "annomi-bad-speaker",
        "a.csv",
        "transcript_id,utterance_id,interlocutor,utterance_text\n1,0,therapist,hi\n1,1,coach,x\n",
        (),
        3,
        "unknown speaker 'coach'",
    ),
    ("text-no-prefix", "a.txt", "\nhello there\nTherapist: hi\n", (), 2, "expected a speaker prefix"),
    (
        "text-named-without-therapist",
        "a.txt",
        "Ruth: Hi, come in.\nSam: Thanks.\n",
        (),
        1,
        "unknown speaker 'Ruth'; expected therapist/client (or T/C). For named speakers say which are therapists, "
        "e.g. --therapist 'Ruth'",
    ),
    ("text-turn-without-text", "a.txt", "Therapist: Hi.\nClient:\nTherapist: Hello?\n", (), 2, "has no text"),
    (
        "text-bad-timestamp",
        "a.txt",
        "[00:00:01] T: Hi.\n[00:01.2.3] C: Hello.\n",
        (),
        2,
        "cannot read time '00:01.2.3'",
    ),
    ("json-invalid", "a.json", '{\n  "session_id": "s",\n  "utterances": [,]\n}\n', (), 3, "invalid JSON"),
    ("jsonl-invalid", "a.jsonl", '{"speaker": "T", "text": "hi"}\n{"speaker": "C", "text": \n', (), 2, "invalid JSON"),
    ("jsonl-no-text", "a.jsonl", '{"speaker": "T"}\n', (), 1, "at least 'speaker' and 'text'"),
    (
        "jsonl-bad-speaker",
        "a.jsonl",
        '{"speaker": "T", "text": "hi"}\n{"speaker": "Bob", "text": "yo"}\n',
        (),
        2,
        "unknown speaker 'Bob'",
    ),
    (
        "jsonl-duplicate-id",
        "a.jsonl",
        '{"utterance_id": 3, "speaker": "T", "text": "a"}\n{"utterance_id": "3", "speaker": "C", "text": "b"}\n',
        (),
        2,
        "duplicate utterance_id '3'",
    ),
    (
        "jsonl-bad-time",
        "a.jsonl",
        '{"speaker": "T", "text": "hi", "start": "soon"}\n',
        (),
        1,
        "cannot read time 'soon'",
    ),
    (
        "vtt-no-speaker",
        "a.vtt",
        "WEBVTT\n\n\n00:01.000 --> 00:02.000\n<v T>Hi.\n\n\n\n00:03.000 --> 00:04.000\njust text\n",
        (),
        9,
        "cue has no speaker",
    ),
    ("vtt-end-before-start", "a.vtt", "WEBVTT\n\n00:05.000 --> 00:04.000\n<v T>Hi.\n", (), 3, "before start"),
    ("vtt-bad-time", "a.vtt", "WEBVTT\n\nNOTE x\n\n00:01.0.0 --> 00:02.000\n<v T>Hi.\n", (), 5, "cannot read time"),
    (
        "srt-unknown-speaker",
        "a.srt",
        "1\n00:00:01,000 --> 00:00:02,000\nTherapist: Hi.\n\n2\n00:00:03,000 --> 00:00:04,000\nNurse: Hello.\n",
        (),
        6,
        "unknown speaker 'Nurse'",
    ),
    ("non-utf8", "a.txt", b"Therapist: Hi.\nClient: caf\xe9 au lait\n", (), 2, "not UTF-8 text"),
]

MALFORMED_FILE = [
    ("empty-file", "a.csv", b"", "the file is empty"),
    ("binary-file", "a.txt", b"RIFF\x00\x00\x00\x00WAVEfmt \x10\x00", "looks like a binary file"),
    (
        "unknown-extension",
        "notes.xyz",
        b"Therapist: hi\n",
        "cannot tell the transcript format from the extension '.xyz'",
    ),
    ("blank-lines-only", "a.txt", b"\n   \n\n", "no utterances found"),
    ("header-only-csv", "a.csv", CSV_HEAD.encode(), "no utterances found"),
    (
        "json-not-a-session",
        "a.json",
        b'[{"id": 1}]',
        "session #0: expected an object with 'session_id' and 'utterances'",
    ),
    (
        "json-utterance-without-speaker",
        "a.json",
        b'{"utterances": [{"speaker": "T", "text": "a"}, {"text": "b"}]}',
        "utterance #1: needs 'speaker' and 'text'",
    ),
    (
        "json-duplicate-id",
        "a.json",
        b'{"utterances": [{"utterance_id": "a", "speaker": "T", "text": "x"},'
        b' {"utterance_id": "a", "speaker": "C", "text": "y"}]}',
        "utterance #1: duplicate utterance_id 'a'",
    ),
    ("json-bad-speaker", "a.json", b'{"utterances": [{"speaker": "Ann", "text": "a"}]}', "unknown speaker 'Ann'"),
]


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    if isinstance(content, str):
        p.write_text(content, encoding="utf-8")
    else:
        p.write_bytes(content)
    return p


@pytest.mark.parametrize(
    ("name", "content", "therapist", "line", "problem"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_line_and_problem(tmp_path: Path, name, content, therapist, line, problem):
    p = _write(tmp_path, name, content)
    with pytest.raises(InputError) as exc:
        read_transcript(p, therapist=therapist)
    msg = str(exc.value)
    assert msg.startswith(f"{p}: line {line}: "), msg
    assert problem in msg


@pytest.mark.parametrize(
    ("name", "content", "problem"), [m[1:] for m in MALFORMED_FILE], ids=[m[0] for m in MALFORMED_FILE]
)
def test_malformed_file(tmp_path: Path, name, content, problem):
    p = _write(tmp_path, name, content)
    with pytest.raises(InputError) as exc:
        read_transcript(p)
    msg = str(exc.value)
    assert msg.startswith(str(p)) and problem in msg, msg


def test_duplicate_names_first_occurrence(tmp_path: Path):
    p = _write(tmp_path, "a.csv", CSV_HEAD + "s,1,therapist,hi\ns,2,client,hello\ns,1,client,again\n")
    with pytest.raises(InputError, match=r"line 4: duplicate utterance_id '1' in session 's' \(first at line 2\)"):
        read_transcript(p)


def test_unknown_format_name(tmp_path: Path):
    p = _write(tmp_path, "a.txt", "T: hi\n")
    with pytest.raises(InputError, match=f"unknown transcript format 'docx'; choose one of {', '.join(FORMATS)}"):
        read_transcript(p, fmt="docx")


def test_missing_file_and_directory(tmp_path: Path):
    with pytest.raises(InputError, match="no such file"):
        read_transcript(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a directory"):
        read_transcript(tmp_path)


def test_with_therapist_named_speakers_become_clients(tmp_path: Path):
    p = _write(tmp_path, "family.txt", "Dr Lee: Who wants to start?\nMaya: Me.\nTom O'Neil: No, me.\n")
    (s,) = read_transcript(p, therapist=["Dr Lee"])
    assert [(u.speaker_label, u.speaker) for u in s.utterances] == [
        ("Dr Lee", "therapist"),
        ("Maya", "client"),
        ("Tom O'Neil", "client"),
    ]


def test_colon_inside_turn_is_not_a_speaker(tmp_path: Path):
    p = _write(tmp_path, "a.txt", "Client: And then I thought: why bother.\nso I said to him: no way\nTherapist: Mm.\n")
    (s,) = read_transcript(p)
    assert [u.text for u in s.utterances] == ["And then I thought: why bother. so I said to him: no way", "Mm."]


# --------------------------------------------------------------------------- the public AnnoMI subset


@pytest.mark.parametrize("name", ["AnnoMI-simple.csv", "AnnoMI-full.csv"])
def test_annomi_public_reads(annomi_dir: Path, name: str):
    sessions = read_transcript(annomi_dir / name)
    assert len(sessions) == 103
    assert sum(len(s.utterances) for s in sessions) == 8251  # AnnoMI-full repeats no utterance here
    assert all({u.speaker for u in s.utterances} == {"therapist", "client"} for s in sessions)
    first = sessions[0]
    assert first.session_id == "1" and dict(first.metadata)["topic"] == "reducing alcohol consumption"
    assert first.utterances[0].start == 11.0
