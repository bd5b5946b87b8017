"""`tagger eval` end to end: files written, numbers in report.json, errors as one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tagger.cli import main
from tagger.evaluation.harness import evaluate
from tagger.evaluation.report import write_report
from tagger.evaluation.results import EvalOptions
from tagger.io.labeled import default_annomi_dir, read_labeled
from tagger.types import TaggedUtterance

PNG = b"\x89PNG\r\n\x1a\n"


def test_report_files(fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    rc = main(
        [
            "eval",
            "--gold",
            str(fixtures / "gold_codes.csv"),
            "--pred",
            str(fixtures / "pred_a.jsonl"),
            "--pred",
            str(fixtures / "pred_b.jsonl"),
            "-o",
            str(out),
            "--bootstrap",
            "50",
        ]
    )
    assert rc == 0
    assert "pred_a: therapist micro-F1 0.727" in capsys.readouterr().out
    data = json.loads((out / "report.json").read_text())
    assert [s["name"] for s in data["systems"]] == ["pred_a", "pred_b"]
    th = data["systems"][0]["averages"][0]
    assert th["group"] == "therapist" and th["micro_f1"] == pytest.approx(8 / 11)
    assert data["options"]["n_resamples"] == 50 and len(data["comparisons"]) == 6
    assert data["systems"][0]["main_behaviour"]["kappa"] == pytest.approx(7 / 11)
    for rel in data["plots"]:
        assert (out / rel).read_bytes()[:8] == PNG
    assert {"plots/code_f1.png", "plots/pred_a_main_behaviour.png", "plots/pred_a_reliability.png"} <= set(
        data["plots"]
    )
    md = (out / "report.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert links and all((out / link).is_file() for link in links)
    assert "| `open_question` | 1 | 1 | 1.000 | 1.000 |" in md
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == len(links)


def test_mismatch_is_a_one_line_error(fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (fixtures / "pred_a.jsonl").read_text().splitlines()
    pred = tmp_path / "short.jsonl"
    pred.write_text("\n".join(lines[:-1]) + "\n")
    rc = main(["eval", "--gold", str(fixtures / "gold_codes.csv"), "--pred", str(pred), "-o", str(tmp_path / "r")])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith("tagger eval: error: short do not match the gold: 1 gold utterances without a prediction")
    assert "s2/3" in err


def test_split_and_partial(fixtures: Path, tmp_path: Path) -> None:
    splits = tmp_path / "split.json"
    splits.write_text(json.dumps({"seed": 1, "train": ["s1"], "calib": [], "dev": ["s2"]}))
    only_s2 = tmp_path / "s2.jsonl"
    only_s2.write_text("".join(x + "\n" for x in (fixtures / "pred_a.jsonl").read_text().splitlines() if '"s2"' in x))
    for extra in (["--split", "dev", "--splits", str(splits)], ["--partial"]):
        out = tmp_path / extra[0].strip("-")
        assert (
            main(
                [
                    "eval",
                    "--gold",
                    str(fixtures / "gold_codes.csv"),
                    "--pred",
                    str(only_s2),
                    "-o",
                    str(out),
                    "--bootstrap",
                    "0",
                    *extra,
                ]
            )
            == 0
        )
        data = json.loads((out / "report.json").read_text())
        assert data["systems"][0]["n_sessions"] == 1
        assert data["systems"][0]["averages"][0]["micro_f1"] == 1.0
    rc = main(
        [
            "eval",
            "--gold",
            str(fixtures / "gold_codes.csv"),
            "--pred",
            str(only_s2),
            "-o",
            str(tmp_path / "x"),
            "--split",
            "test",
            "--splits",
            str(splits),
        ]
    )
    assert rc == 2


def test_audio_run_against_reference(fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "asr"
    assert (
        main(
            [
                "eval",
                "--reference",
                str(fixtures / "asr_reference.csv"),
                "--pred",
                str(fixtures / "asr_run.jsonl"),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "asr_run: WER 0.182, speaker-attribution error 0.091" in capsys.readouterr().out
    data = json.loads((out / "report.json").read_text())
    assert data["systems"] == [] and data["asr"][0]["scores"]["wer"] == pytest.approx(2 / 11)
    assert "speaker-attribution error 0.091" in (out / "report.md").read_text()


def test_usage_errors(fixtures: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "--pred", str(fixtures / "pred_a.jsonl"), "-o", str(tmp_path)]) == 2
    assert "nothing to score against" in capsys.readouterr().err
    assert main(["eval", "--gold", str(fixtures / "gold_codes.csv"), "-o", str(tmp_path)]) == 2
    assert "nothing to score" in capsys.readouterr().err


def _perfect(sessions) -> list[TaggedUtterance]:
    out = []
    for ls in sessions:
        for u in ls.session.utterances:
            g = ls.labels[u.utterance_id]
            codes = tuple(sorted(g.codes)) if u.speaker == "therapist" else (g.client_talk,)
            out.append(
                TaggedUtterance(
                    u,
                    codes,
                    {c: 1.0 for c in codes},
                    main_behaviour=g.main_behaviour,
                    client_talk=g.client_talk,
                    risk_indicator=bool(g.risk_indicator),
                )
            )
    return out


ANNOMI_FULL = default_annomi_dir() / "AnnoMI-full.csv"


@pytest.mark.skipif(not ANNOMI_FULL.is_file(), reason="AnnoMI-full.csv not available")
def test_public_annomi_perfect_predictions(tmp_path: Path) -> None:
    gold = read_labeled(ANNOMI_FULL)[:4]
    ev = evaluate(gold, {"oracle": _perfect(gold)}, gold_name=str(ANNOMI_FULL), options=EvalOptions(n_resamples=20))
    r = ev.systems[0]
    assert r.averages[0].micro_f1 == 1.0 and r.main_behaviour.kappa == 1.0 and r.client_talk.macro_f1 == 1.0
    assert all(s.f1 in (1.0, None) for s in r.therapist_codes)
    assert {c.name for c in r.calibration} == {"therapist", "client", "all"} and r.calibration[-1].ece == 0.0
    files = write_report(ev, tmp_path)
    assert files.html.is_file() and len(files.plots) >= 4


def test_model_option(fixtures: Path, tmp_path: Path) -> None:
    classify = pytest.importorskip("tagger.classify")
    if not hasattr(classify, "load_classifier"):
        pytest.skip("tagger.classify.load_classifier not available yet")
    try:
        classify.load_classifier(None)
    except Exception as exc:  # no trained default model in this checkout
        pytest.skip(f"no default model: {exc}")
    out = tmp_path / "model"
    assert (
        main(["eval", "--gold", str(fixtures / "gold_codes.csv"), "--model", "-o", str(out), "--bootstrap", "20"]) == 0
    )
    data = json.loads((out / "report.json").read_text())
    assert data["systems"][0]["name"] == "model" and (out / "predictions-model.jsonl").is_file()


def test_second_annotator_adds_the_human_ceiling(fixtures: Path, tmp_path: Path) -> None:
    second = tmp_path / "second.csv"
    rows = (fixtures / "gold_codes.csv").read_text().splitlines()
    # the second annotator disagrees on one reflection and on one talk type
    rows = [r.replace("You're worn out.,complex_reflection", "You're worn out.,simple_reflection") for r in rows]
    rows = [r.replace("I just want it to stop.\",sustain_talk", "I just want it to stop.\",neutral") for r in rows]
    second.write_text("\n".join(rows) + "\n")
    out = tmp_path / "r"
    args = ["eval", "--gold", str(fixtures / "gold_codes.csv"), "--pred", str(fixtures / "pred_a.jsonl")]
    assert main([*args, "--also-gold", str(second), "-o", str(out), "--bootstrap", "0"]) == 0
    system = json.loads((out / "report.json").read_text())["systems"][0]
    rows = {(r["task"], r["metric"]): r for r in system["human_ceiling"]["rows"]}
    assert system["human_ceiling"]["annotators"] == ["gold", "second"]
    talk = rows[("client_talk", "agreement")]
    assert 0.0 < talk["human"] < 1.0 and talk["human_n"] > 0
    # without it there is no ceiling, and a file of other transcripts is refused
    assert main([*args, "-o", str(tmp_path / "r2"), "--bootstrap", "0"]) == 0
    assert json.loads((tmp_path / "r2" / "report.json").read_text())["systems"][0]["human_ceiling"] is None
    other = tmp_path / "other.csv"
    other.write_text("session_id,utterance_id,speaker,text,codes\nzz,0,therapist,Hello.,other\n")
    assert main([*args, "--also-gold", str(other), "-o", str(tmp_path / "r3")]) == 2
