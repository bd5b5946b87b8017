"""De-identification: planted identifiers are all replaced by typed placeholders, offline."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from note_helpers import FIXTURES

from tagger.io.writers import read_tagged_jsonl, write_jsonl
from tagger.note import build_note, render
from tagger.note.deid import Deidentifier, Placeholders
from tagger.types import TaggedUtterance, Utterance

PLANTED = {
    "PERSON": ["Maria Gonzalez", "Ahmed Patel", "Tom", "Maria"],
    "PHONE": ["(555) 867-5309", "555-123-4567", "867-5309"],
    "EMAIL": ["jane.doe@example.com", "maria.g@clinicmail.org"],
    "ADDRESS": ["1427 Maple Avenue", "Springfield", "62704", "88 Oak St"],
    "DATE": ["July 4th, 1985", "03/14/2024", "March 3rd", "1985"],
    "ID": ["88234571"],
}
LINES = [
    ("therapist", "Dr. Ahmed Patel", "Hi Maria, good to see you. Your PHQ-9 was 14 this week.", ("other",)),
    ("client", "Maria Gonzalez", "Hi. I'm Maria Gonzalez, you can reach me at (555) 867-5309.", ("neutral",)),
    ("client", "Maria Gonzalez", "Or 555-123-4567, or email jane.doe@example.com or maria.g@clinicmail.org.",
     ("neutral",)),
    ("therapist", "Dr. Ahmed Patel", "Thanks. Have you had thoughts of ending your life since March 3rd?",
     ("closed_question", "risk_assessment")),
    ("client", "Maria Gonzalez", "No, never. I moved to 1427 Maple Avenue, Springfield, IL 62704 with my brother Tom.",
     ("change_talk",)),
    ("therapist", "Dr. Ahmed Patel", "My last note says your birthday is July 4th, 1985 and we met on 03/14/2024.",
     ("other",)),
    ("client", "Maria Gonzalez", "Yes. My MRN is 88234571. Tom lives at 88 Oak St now. Call 867-5309 if needed.",
     ("neutral",)),
    ("therapist", "Dr. Ahmed Patel", "Before next week, try the breathing for 4 seconds in, two weeks of practice.",
     ("homework", "relaxation_breathing")),
]


def planted_session() -> list[TaggedUtterance]:
    out = []
    for i, (sp, label, text, codes) in enumerate(LINES, 1):
        talk = codes[0] if sp == "client" else None
        ev = {codes[-1]: text.split(". ")[0]} if sp == "therapist" and codes != ("other",) else {}
        out.append(TaggedUtterance(Utterance("maria-session", f"u{i}", sp, text, speaker_label=label,
                                             start=10.0 * i, end=10.0 * i + 8), codes, {c: 0.9 for c in codes},
                                   client_talk=talk, evidence=ev))
    return out


def leaks(text: str) -> list[str]:
    return [p for ps in PLANTED.values() for p in ps if p in text]


@pytest.fixture(scope="module")
def network_attempts() -> Iterator[list[tuple]]:
    """Every socket connection tried while the module runs (presidio, spaCy and tldextract must try none)."""
    attempts: list[tuple] = []

    def refuse(self: socket.socket, address: object, *a: object) -> None:
        attempts.append((address,))
        raise OSError("network disabled in the de-identification tests")

    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket.socket, "connect_ex", refuse)
    mp.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))  # type: ignore[arg-type]
    import spacy.cli

    mp.setattr(spacy.cli, "download", lambda *a, **k: attempts.append(("spacy.cli.download", a)))
    yield attempts
    mp.undo()


@pytest.fixture(scope="module")
def deid(network_attempts: list[tuple]) -> Deidentifier:
    d = Deidentifier()
    d.analyzer  # noqa: B018  (load with the network refused)
    return d


@pytest.fixture(scope="module")
def cleaned(deid: Deidentifier) -> list[TaggedUtterance]:
    return deid.deidentify(planted_session())


def test_planted_identifiers_all_removed_from_transcript(cleaned: list[TaggedUtterance],
                                                         network_attempts: list[tuple]) -> None:
    for t in cleaned:
        assert leaks(t.utterance.text) == [], t.utterance.text
        assert all(leaks(v) == [] for v in t.evidence.values()), t.evidence
        assert leaks(t.utterance.speaker_label or "") == []
        assert leaks(t.utterance.session_id) == []
    joined = " ".join(t.utterance.text for t in cleaned)
    for kind in ("PERSON", "PHONE", "EMAIL", "ADDRESS", "DATE", "ID"):
        assert f"[{kind}_" in joined, kind
    assert network_attempts == []


def test_placeholders_are_consistent_and_clinical_content_stays(cleaned: list[TaggedUtterance]) -> None:
    texts = [t.utterance.text for t in cleaned]
    # "Tom" is the same placeholder in u5 and u7; the two labels stay distinct people
    tom = {w for t in (texts[4], texts[6]) for w in t.split() if w.startswith("[PERSON_")}
    assert len({w.rstrip(".,") for w in tom}) == 1
    assert cleaned[0].utterance.speaker_label != cleaned[1].utterance.speaker_label
    assert "PHQ-9 was 14 this week" in texts[0]
    assert "4 seconds in, two weeks of practice" in texts[7]
    assert texts[3].startswith("Thanks. Have you had thoughts of ending your life since [DATE_")
    assert [t.codes for t in cleaned] == [t.codes for t in planted_session()]  # labels untouched


def test_note_from_deidentified_session_has_no_identifier(tmp_path: Path, cleaned: list[TaggedUtterance]) -> None:
    note = build_note(cleaned, "soap", deidentified=True)
    assert note.header.deidentified
    measures = [s.text for s in note.all_statements() if s.kind == "measure"]
    assert measures == ["PHQ-9: 14 (range 0–27), as stated in session."]
    assert any("denied suicidal thoughts" in s.text for s in note.all_statements())
    for kind in ("md", "json", "html"):
        out = render(note, kind, include_transcript=True)
        assert isinstance(out, str) and leaks(out) == [], kind
    if shutil.which("pdftotext"):
        pdf = tmp_path / "n.pdf"
        pdf.write_bytes(render(note, "pdf", include_transcript=True))  # type: ignore[arg-type]
        text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
        assert "[PERSON_" in text and leaks(text) == []


def test_note_command_deidentifies(tmp_path: Path, deid: Deidentifier, monkeypatch: pytest.MonkeyPatch) -> None:
    import tagger.note.deid as deid_mod
    from tagger.commands import note as note_cmd

    monkeypatch.setattr(deid_mod, "Deidentifier", lambda: deid)  # reuse the loaded analyzer
    src = tmp_path / "maria_gonzalez.jsonl"
    write_jsonl(planted_session(), src)
    written = note_cmd.write_session_notes(read_tagged_jsonl(src), [str(tmp_path / "n.md"), str(tmp_path / "n.json")],
                                           deidentify=True, deidentified_jsonl=tmp_path / "clean.jsonl",
                                           source=src.name, include_transcript=True)
    assert len(written) == 2
    for path in [*written, tmp_path / "clean.jsonl"]:
        assert leaks(Path(path).read_text(encoding="utf-8")) == [], path
    header = json.loads((tmp_path / "n.json").read_text(encoding="utf-8"))["header"]
    assert header["deidentified"] is True and "Gonzalez" not in str(header["source"])


def test_fixture_without_identifiers_is_left_alone(deid: Deidentifier) -> None:
    items = read_tagged_jsonl(FIXTURES / "mi_alcohol.jsonl")
    cleaned = deid.deidentify(items)
    changed = [(a.utterance.text, b.utterance.text) for a, b in zip(items, cleaned, strict=True)
               if a.utterance.text != b.utterance.text]
    assert len(changed) <= 2, changed  # at most incidental hits; therapy content is kept


def test_identifier_is_replaced_everywhere_in_its_session(deid: Deidentifier) -> None:
    items = [TaggedUtterance(Utterance("jane-smith-01", "u1", "client", text), ("neutral",), {}, client_talk="neutral")
             for text in ("My name is Jane Smith.", "My GAD-7 thing was high and my PHQ-9 was 17.")]
    cleaned = deid.deidentify(items)
    assert cleaned[0].utterance.text == "My name is [PERSON_1]."
    assert cleaned[1].utterance.text == "My GAD-7 thing was high and my PHQ-9 was 17."  # instruments are not names
    assert {t.utterance.session_id for t in cleaned} == {"[PERSON_1]-01"}


def test_scrub_replaces_known_identifiers_case_insensitively() -> None:
    ph = Placeholders()
    assert ph.get("PERSON", "Jane Smith") == "[PERSON_1]"
    assert ph.get("PERSON", "Al") == "[PERSON_2]"
    assert ph.get("PHONE", "867-5309") == "[PHONE_1]"
    assert ph.scrub("jane smith called 867-5309; JANE_SMITH too; Alice and Al met; Janes Smithy") == \
        "[PERSON_1] called [PHONE_1]; [PERSON_1] too; Alice and [PERSON_2] met; Janes Smithy"
    assert ph.scrub("[PERSON_1] stays") == "[PERSON_1] stays"
