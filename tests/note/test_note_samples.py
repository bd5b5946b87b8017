"""Notes for the shipped sample sessions: from the gold labels (always) and from the model (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.io.labeled import read_labeled
from tagger.note import build_note, write_note
from tagger.types import TaggedUtterance

SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
MODEL = Path(__file__).resolve().parents[2] / "models" / "tagger-minilm"


def gold_as_tagged(path: Path) -> list[TaggedUtterance]:
    """Gold labels dressed as predictions (probability 1), to draft a note without a model."""
    out = []
    for ls in read_labeled(path):
        for u in ls.session.utterances:
            g = ls.labels[u.utterance_id]
            if u.speaker == "therapist":
                codes = tuple(sorted(g.codes)) or ("other",)
            else:
                codes = ((g.client_talk or "neutral"),) + (("risk_indicator",) if g.risk_indicator else ())
            out.append(TaggedUtterance(u, codes, {c: 1.0 for c in codes if c != "other"},
                                       main_behaviour=g.main_behaviour, client_talk=g.client_talk,
                                       risk_indicator=bool(g.risk_indicator)))
    return out


@pytest.mark.skipif(not (SAMPLES / "labeled_session.csv").is_file(), reason="data_samples/labeled_session.csv missing")
def test_labeled_sample_note(tmp_path: Path) -> None:
    items = gold_as_tagged(SAMPLES / "labeled_session.csv")
    for fmt in ("soap", "dap", "birp"):
        note = build_note(items, fmt, source="labeled_session.csv", model="gold labels")
        for ext in ("md", "json", "html"):
            write_note(note, tmp_path / f"labeled.{fmt}.{ext}")
    stmts = note.all_statements()
    texts = [s.text for s in stmts]
    assert "PHQ-9: 15 (range 0–27; previously 18), as stated in session." in texts
    assert note.alerts is None  # the passive suicidal thought (turn 13) is assessed in turn 14
    risk = [s for s in stmts if s.kind == "risk" and "risk indicator" in s.text]
    assert [e.utterance_id for e in risk[0].evidence] == ["13", "14", "16"]
    assert "Client denied suicidal thoughts or self-harm when asked (utterance 15); quoted below." in texts
    assert any(t.startswith("Assigned or reviewed between-session practice (utterance 24)") for t in texts)


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.is_dir(), reason="no trained model at models/tagger-minilm")
def test_every_sample_tagged_by_the_model_gives_notes_in_every_format(tmp_path: Path) -> None:
    from tagger.pipeline import Pipeline, PipelineConfig

    inputs = {p: () for p in SAMPLES.iterdir() if p.suffix in (".csv", ".txt", ".json", ".vtt", ".srt")}
    inputs[SAMPLES / "couples_session.txt"] = ("Ruth",)
    for path, therapist in sorted(inputs.items()):
        pipe = Pipeline(PipelineConfig(therapist_names=therapist))
        for result in pipe.tag(pipe.read(path)):
            for fmt in ("soap", "dap", "birp"):
                note = build_note(result.tagged, fmt, source=path.name, model=result.run.model_name)
                for ext in ("md", "json", "html", "pdf"):
                    out = tmp_path / f"{path.stem}.{result.session.session_id}.{fmt}.{ext}"
                    write_note(note, out)
                    assert out.stat().st_size > 1000
