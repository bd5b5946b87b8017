"""Gold labels: AnnoMI simple/full, the codes CSV and the project JSONL, with their observed label sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.errors import InputError
from tagger.io.labeled import (
    ANNOMI_FULL_CODES,
    MAIN,
    TALK,
    GoldLabels,
    derive_main_behaviour,
    parse_codes,
    read_labeled,
)
from tagger.io.readers import read_transcript
from tagger.taxonomy import OTHER, RISK_FLAG, load_taxonomy

SAMPLES = Path(__file__).resolve().parents[1] / "data_samples"

FULL_HEADER = (
    "mi_quality,transcript_id,video_title,video_url,topic,utterance_id,interlocutor,timestamp,utterance_text,"
    "annotator_id,therapist_input_exists,therapist_input_subtype,reflection_exists,reflection_subtype,"
    "question_exists,question_subtype,main_therapist_behaviour,client_talk_type"
)
_NA6 = "n/a,n/a,n/a,n/a,n/a,n/a"  # the six therapist columns of a client row


def _t(tid, uid, ann, inp, inp_sub, refl, refl_sub, q, q_sub, main, text="Therapist words."):
    return (
        f"high,{tid},Demo,https://example.org/v,smoking,{uid},therapist,00:00:{uid:02d},{text},{ann},"
        f"{inp},{inp_sub},{refl},{refl_sub},{q},{q_sub},{main},n/a"
    )


def _c(tid, uid, ann, talk, text="Client words."):
    return f"high,{tid},Demo,https://example.org/v,smoking,{uid},client,00:00:{uid:02d},{text},{ann},{_NA6},n/a,{talk}"


# A tiny hand-written AnnoMI-full file: transcript 10 (one annotator) and 20 (two annotators, "12" and "3").
FULL_ROWS = [
    _t(
        10,
        0,
        3,
        "True",
        "negotiation",
        "False",
        "n/a",
        "True",
        "closed",
        "question",
        '"Is it okay if we talk about your smoking?"',
    ),
    _c(10, 1, 3, "neutral", "Sure."),
    _t(10, 2, 3, "False", "n/a", "False", "n/a", "True", "open", "question", "How do you feel about it?"),
    _c(10, 3, 3, "sustain", "It helps me relax."),
    _t(10, 4, 3, "False", "n/a", "True", "simple", "False", "n/a", "reflection", "It relaxes you."),
    _c(10, 5, 3, "change", "But I want to quit for my kids."),
    _t(10, 6, 3, "False", "n/a", "True", "complex", "False", "n/a", "reflection", "Your kids are the reason."),
    _t(10, 7, 3, "True", "information", "False", "n/a", "False", "n/a", "therapist_input", "Quitting halves the risk."),
    _t(10, 8, 3, "True", "advice", "False", "n/a", "False", "n/a", "therapist_input", "You should set a date."),
    _t(10, 9, 3, "True", "options", "True", "simple", "False", "n/a", "therapist_input", "Patches or gum."),
    _t(10, 10, 3, "False", "n/a", "False", "n/a", "False", "n/a", "other", "Okay thanks."),
    _t(20, 0, 12, "False", "n/a", "False", "n/a", "True", "open", "question", "What brings you in?"),
    _c(20, 1, 12, "change", "I want to cut down."),
    _t(20, 0, 3, "False", "n/a", "True", "simple", "False", "n/a", "reflection", "What brings you in?"),
    _c(20, 1, 3, "neutral", "I want to cut down."),
]
SIMPLE_HEADER = (
    "transcript_id,mi_quality,video_title,video_url,topic,utterance_id,interlocutor,timestamp,utterance_text,"
    "main_therapist_behaviour,client_talk_type"
)


@pytest.fixture
def annomi_full(tmp_path: Path) -> Path:
    p = tmp_path / "AnnoMI-full.csv"
    p.write_text("\n".join([FULL_HEADER, *FULL_ROWS]) + "\n", encoding="utf-8")
    return p


def test_annomi_full_subtypes_map_onto_codes(annomi_full: Path):
    by_id = {ls.session_id: ls for ls in read_labeled(annomi_full)}
    labels = by_id["10"].labels
    expected = {
        "0": {"closed_question", "seeking_collaboration"},
        "2": {"open_question"},
        "4": {"simple_reflection"},
        "6": {"complex_reflection"},
        "7": {"giving_information"},
        "8": {"advice"},
        "9": {"seeking_collaboration", "simple_reflection"},
        "10": {OTHER},
    }
    assert {k: set(labels[k].codes) for k in expected} == expected
    assert labels["0"].main_behaviour == "question" and labels["9"].main_behaviour == "therapist_input"
    assert labels["10"].main_behaviour == "other"
    for k in expected:
        assert labels[k].observed == ANNOMI_FULL_CODES | {MAIN}
        assert labels[k].client_talk is None and labels[k].risk_indicator is None
    assert {k: labels[k].client_talk for k in ("1", "3", "5")} == {
        "1": "neutral",
        "3": "sustain_talk",
        "5": "change_talk",
    }
    assert labels["5"].observed == {TALK} and labels["5"].codes == frozenset()
    assert by_id["10"].topic == "smoking" and by_id["10"].annotations == {}


def test_annomi_full_several_annotators(annomi_full: Path):
    (s20,) = [ls for ls in read_labeled(annomi_full) if ls.session_id == "20"]
    assert len(s20.session.utterances) == 2  # one utterance per id, not one per annotator
    assert set(s20.annotations) == {"3", "12"}
    assert s20.labels is s20.annotations["3"]  # annotators in numeric order: "3" before "12"
    assert s20.labels["0"].codes == {"simple_reflection"} and s20.annotations["12"]["0"].codes == {"open_question"}
    assert s20.annotations["12"]["1"].client_talk == "change_talk"


def test_annomi_full_reader_keeps_first_text_per_utterance(annomi_full: Path):
    sessions = read_transcript(annomi_full)
    assert [len(s.utterances) for s in sessions] == [11, 2]


def test_annomi_simple_main_behaviour_only(tmp_path: Path):
    p = tmp_path / "simple.csv"
    p.write_text(
        SIMPLE_HEADER + "\n"
        "5,low,V,u,diet,0,therapist,00:00:01,Why not just stop?,question,n/a\n"
        "5,low,V,u,diet,1,client,00:00:03,I like food.,n/a,sustain\n",
        encoding="utf-8",
    )
    (ls,) = read_labeled(p)
    assert ls.labels["0"] == GoldLabels(main_behaviour="question", observed=frozenset({MAIN}))
    assert ls.labels["1"] == GoldLabels(client_talk="sustain_talk", observed=frozenset({TALK}))


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        ("5,low,V,u,diet,0,therapist,00:00:01,Hi.,greeting,n/a", "main_therapist_behaviour 'greeting' is not one of"),
        ("5,low,V,u,diet,0,client,00:00:01,Hi.,n/a,maybe", "client_talk_type 'maybe' is not change/sustain/neutral"),
    ],
)
def test_annomi_bad_labels(tmp_path: Path, row: str, problem: str):
    p = tmp_path / "simple.csv"
    p.write_text(SIMPLE_HEADER + "\n5,low,V,u,diet,9,client,00:00:00,Ok.,n/a,neutral\n" + row + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=f"line 3: {problem}"):
        read_labeled(p)


# --------------------------------------------------------------------------- codes CSV


def test_labeled_sample_parses():
    (ls,) = read_labeled(SAMPLES / "labeled_session.csv")
    tax = load_taxonomy()
    assert ls.session_id == "ba_depression_demo" and len(ls.labels) == len(ls.session.utterances) == 27
    for u in ls.session.utterances:
        g = ls.labels[u.utterance_id]
        if u.speaker == "therapist":
            assert g.codes and g.codes <= set(tax.therapist_ids) and g.client_talk is None
        else:
            assert not g.codes and g.client_talk in ("change_talk", "sustain_talk", "neutral")
    lab = ls.labels
    assert (
        lab["0"].codes == {"measurement_review", "giving_information"} and lab["0"].main_behaviour == "therapist_input"
    )
    assert lab["14"].codes == {"closed_question", "risk_assessment"} and lab["14"].main_behaviour == "question"
    assert lab["24"].codes == {"behavioral_activation", "homework"} and lab["24"].main_behaviour is None
    assert lab["26"].codes == {OTHER} and lab["26"].main_behaviour == "other"
    assert [k for k, g in lab.items() if g.risk_indicator] == ["13"]
    assert lab["15"].risk_indicator is False and lab["15"].client_talk == "neutral"  # a denial is not a risk indicator


def test_codes_observed_sets():
    tax = load_taxonomy()
    th = parse_codes("open_question;values_clarification", "therapist", "x")
    assert th.observed == set(tax.predictable_therapist_ids) | {MAIN}
    no_main = parse_codes("homework", "therapist", "x")
    assert no_main.main_behaviour is None and no_main.observed == set(tax.predictable_therapist_ids)
    cl = parse_codes("change_talk", "client", "x")
    assert cl == GoldLabels(client_talk="change_talk", risk_indicator=False, observed=frozenset({TALK, RISK_FLAG}))


def test_codes_client_talk_and_risk():
    g = parse_codes(" neutral ; risk_indicator ", "client", "x")
    assert (g.client_talk, g.risk_indicator) == ("neutral", True)
    assert parse_codes("risk_indicator,sustain_talk", "client", "x").client_talk == "sustain_talk"


def test_codes_comma_separated_and_empty_therapist():
    assert parse_codes("open_question, homework", "therapist", "x").codes == {"open_question", "homework"}
    assert parse_codes("", "therapist", "x").codes == {OTHER}


@pytest.mark.parametrize(
    ("codes", "speaker", "problem"),
    [
        ("open_question;hugging", "therapist", "unknown therapist code(s) hugging"),
        ("other;summary", "therapist", "'other' cannot be combined"),
        ("risk_indicator", "therapist", "unknown therapist code(s) risk_indicator"),
        ("change_talk;neutral", "client", "exactly one of change_talk, sustain_talk, neutral"),
        ("risk_indicator", "client", "exactly one of"),
        ("", "client", "exactly one of"),
        ("neutral;open_question", "client", "exactly one of"),
    ],
)
def test_codes_errors(codes: str, speaker: str, problem: str):
    with pytest.raises(InputError) as exc:
        parse_codes(codes, speaker, "gold.csv: line 7")
    assert str(exc.value).startswith("gold.csv: line 7: ") and problem in str(exc.value)


def test_codes_csv_error_names_line(tmp_path: Path):
    p = tmp_path / "gold.csv"
    p.write_text(
        "session_id,utterance_id,speaker,text,codes\ns,0,therapist,Hi.,other\ns,1,client,Hello.,change_talk;sustain_talk\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"gold.csv: line 3: a client utterance needs exactly one"):
        read_labeled(p)


def test_folder_of_codes_csvs_skips_sessions_csv(tmp_path: Path):
    for sid in ("b", "a"):
        (tmp_path / f"{sid}.csv").write_text(
            f"session_id,utterance_id,speaker,text,codes\n{sid},0,therapist,Hi.,other\n{sid},1,client,Yo.,neutral\n",
            encoding="utf-8",
        )
    (tmp_path / "sessions.csv").write_text("session_id,summary\na,x\n", encoding="utf-8")
    assert [ls.session_id for ls in read_labeled(tmp_path)] == ["a", "b"]


def test_unknown_gold_file(tmp_path: Path):
    p = tmp_path / "t.csv"
    p.write_text("session_id,utterance_id,speaker,text\ns,0,therapist,Hi.\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a gold file I know"):
        read_labeled(p)
    with pytest.raises(InputError, match="no such file"):
        read_labeled(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- JSONL gold


def test_jsonl_gold_uses_resolved_roles_and_default_ids(tmp_path: Path):
    p = tmp_path / "gold.jsonl"
    p.write_text(
        '{"session_id": "s", "speaker": "T", "text": "Any thoughts of suicide?",'
        ' "codes": ["closed_question", "risk_assessment"]}\n'
        "\n"
        '{"session_id": "s", "speaker": "Client", "text": "No.", "client_talk": "neutral"}\n'
        '{"session_id": "s", "utterance_id": "x", "speaker": "therapist", "text": "Okay.", "codes": [],'
        ' "main_behaviour": "other"}\n'
        '{"session_id": "s", "speaker": "C", "text": "I cut again.", "client_talk": "neutral",'
        ' "risk_indicator": true}\n',
        encoding="utf-8",
    )
    (ls,) = read_labeled(p)
    lab = ls.labels
    assert list(lab) == ["0", "1", "x", "3"]
    assert lab["0"].codes == {"closed_question", "risk_assessment"} and lab["0"].main_behaviour == "question"
    assert lab["1"].client_talk == "neutral" and lab["1"].risk_indicator is False
    assert lab["x"].codes == {OTHER} and MAIN in lab["x"].observed
    assert lab["3"].risk_indicator is True


# --------------------------------------------------------------------------- derive_main_behaviour

DERIVE = [
    ({"other"}, "other"),
    ({"open_question"}, "question"),
    ({"closed_question", "risk_assessment"}, "question"),
    ({"open_question", "closed_question"}, "question"),
    ({"simple_reflection"}, "reflection"),
    ({"complex_reflection", "validation"}, "reflection"),
    ({"summary"}, "reflection"),
    ({"giving_information", "psychoeducation"}, "therapist_input"),
    ({"advice"}, "therapist_input"),
    ({"seeking_collaboration"}, "therapist_input"),
    ({"open_question", "simple_reflection"}, None),
    ({"closed_question", "seeking_collaboration"}, None),
    ({"affirmation"}, None),
    ({"homework", "behavioral_activation"}, None),
    (set(), None),
]


@pytest.mark.parametrize(("codes", "main"), DERIVE, ids=[",".join(sorted(c)) or "empty" for c, _ in DERIVE])
def test_derive_main_behaviour(codes: set[str], main: str | None):
    assert derive_main_behaviour(frozenset(codes)) == main


# --------------------------------------------------------------------------- the public AnnoMI subset


def test_annomi_public_full(annomi_dir: Path):
    sessions = read_labeled(annomi_dir / "AnnoMI-full.csv")
    assert len(sessions) == 103
    allowed = ANNOMI_FULL_CODES | {OTHER}
    n_codes = 0
    for ls in sessions:
        assert set(ls.labels) == {u.utterance_id for u in ls.session.utterances}
        for u in ls.session.utterances:
            g = ls.labels[u.utterance_id]
            if u.speaker == "therapist":
                assert g.codes <= allowed and g.main_behaviour in ("question", "reflection", "therapist_input", "other")
                n_codes += len(g.codes - {OTHER})
            else:
                assert g.client_talk in ("change_talk", "sustain_talk", "neutral") and g.risk_indicator is None
    assert n_codes > 3000


def test_annomi_public_simple(annomi_dir: Path):
    sessions = read_labeled(annomi_dir / "AnnoMI-simple.csv")
    assert len(sessions) == 103 and sum(len(ls.labels) for ls in sessions) == 8251
    assert all(g.observed in ({MAIN}, {TALK}) for ls in sessions for g in ls.labels.values())
