"""The shipped model on real data: outputs, backend agreement, artifact errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tagger.classify import EngineOptions, load_classifier
from tagger.errors import ModelError
from tagger.io.readers import read_transcript
from tagger.segment import Segmenter
from tagger.taxonomy import CLIENT_TALK_CODES, MAIN_BEHAVIOURS, load_taxonomy

# Stated tolerance of the int8 CPU path. int8 dynamic quantization scales activations per batch, so a
# score moves a little with its batch mates (the engine batches int8 session by session, so that
# a session's scores never depend on other sessions). Measured on 3,000 AnnoMI utterances: therapist-code max 0.26,
# mean 0.007; on the test samples a talk-type score moved 0.36. What matters holds: authored dev
# macro-F1 0.487 (int8) vs 0.489 (torch).
ONNX_INT8_MAX_ABS = 0.5  # any single score (sanity bound: no score flips outright)
ONNX_INT8_P99_ABS = 0.1  # 99th percentile over all scores
ONNX_INT8_MEAN_ABS = 0.02  # averaged over all scores
ONNX_INT8_DECISION_AGREEMENT = 0.97  # share of (utterance, code) decisions that must match
ONNX_FP32_MAX_ABS = 1e-4


@pytest.fixture(scope="module")
def sessions(data_samples):
    out = []
    for name in ("cbt_session.csv", "mi_session.txt", "dbt_session.json", "panic_session.srt", "grief_session.vtt"):
        out += read_transcript(data_samples / name)
    return out


@pytest.fixture(scope="module")
def torch_clf(shipped_model):
    return load_classifier(shipped_model, options=EngineOptions(backend="torch"))


def test_tags_are_valid_taxonomy_labels(torch_clf, sessions):
    tax = load_taxonomy()
    tagged = torch_clf.tag_sessions(sessions)
    assert [len(t) for t in tagged] == [len(s.utterances) for s in sessions]
    for s, ts in zip(sessions, tagged, strict=True):
        assert [t.utterance.utterance_id for t in ts] == [u.utterance_id for u in s.utterances]
        for t in ts:
            if t.utterance.speaker == "therapist":
                assert t.codes and set(t.codes) <= set(tax.therapist_ids)
                assert t.main_behaviour in MAIN_BEHAVIOURS and t.client_talk is None
                assert ("other" in t.codes) == (len(t.codes) == 1 and t.codes[0] == "other")
            else:
                assert t.client_talk in CLIENT_TALK_CODES and t.codes[0] == t.client_talk
                assert t.risk_indicator == ("risk_indicator" in t.codes)
            assert all(0.0 <= v <= 1.0 for v in t.scores.values())
            json.dumps(t.to_record())


def _probe_session(utts: list[tuple[str, str]]):
    """A session of (speaker, text) turns with ids 0, 1, 2, ..."""
    from tagger.types import Session, Utterance

    return Session("probe", tuple(Utterance("probe", str(i), spk, txt) for i, (spk, txt) in enumerate(utts)))


def test_predictions_are_plausible(torch_clf, data_samples):
    """Not a metric (that is the model card's job): obvious utterances get their obvious labels."""
    utts = [
        ("therapist", "What brings you in today?"),
        ("client", "I've been drinking way too much since I lost my job, and I really want to cut back."),
        ("therapist", "Have you had any thoughts of ending your life?"),
        ("client", "Sometimes I think everyone would be better off without me."),
    ]
    s = _probe_session(utts)
    t = torch_clf.tag_sessions([s])[0]
    assert t[0].main_behaviour == "question" and "open_question" in t[0].codes
    assert t[1].client_talk == "change_talk"
    assert "risk_assessment" in t[2].codes
    assert t[3].risk_indicator


def test_deterministic(torch_clf, sessions):
    a = torch_clf.scores(sessions)
    b = torch_clf.scores(list(reversed(sessions)))[::-1]
    for x, y in zip(a, b, strict=True):
        np.testing.assert_allclose(x.therapist, y.therapist, atol=1e-5)


def _decisions(clf, sc) -> np.ndarray:
    thr = np.array([clf.config.thresholds[c] for c in clf.config.therapist_labels])
    return np.concatenate([(s.therapist >= thr).ravel() for s in sc])


def test_onnx_paths_agree_with_torch(shipped_model, torch_clf, sessions):
    ref = torch_clf.scores(sessions)
    fp32 = load_classifier(shipped_model, options=EngineOptions(backend="onnx-fp32")).scores(sessions)
    int8_clf = load_classifier(shipped_model, options=EngineOptions(backend="onnx"))
    int8 = int8_clf.scores(sessions)
    for r, f, q in zip(ref, fp32, int8, strict=True):
        np.testing.assert_allclose(f.therapist, r.therapist, atol=ONNX_FP32_MAX_ABS)
        np.testing.assert_allclose(f.talk, r.talk, atol=ONNX_FP32_MAX_ABS)
        assert np.abs(q.therapist - r.therapist).max() <= ONNX_INT8_MAX_ABS
        assert np.abs(q.talk - r.talk).max() <= ONNX_INT8_MAX_ABS
    diffs = np.concatenate([np.abs(q.therapist - r.therapist).ravel() for r, q in zip(ref, int8, strict=True)])
    assert np.mean(diffs) <= ONNX_INT8_MEAN_ABS
    assert np.quantile(diffs, 0.99) <= ONNX_INT8_P99_ABS
    agree = (_decisions(torch_clf, ref) == _decisions(int8_clf, int8)).mean()
    assert agree >= ONNX_INT8_DECISION_AGREEMENT


# The CUDA path runs the encoder in bf16: same kind of tolerance as int8 (checked on an H100).
CUDA_BF16_P99_ABS = 0.1
CUDA_BF16_MEAN_ABS = 0.02


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_bf16_path_agrees_with_cpu(shipped_model, torch_clf, sessions):
    gpu = load_classifier(shipped_model, options=EngineOptions(backend="torch", device="cuda"))
    assert gpu.backend_name == "torch-cuda-bf16"
    ref, out = torch_clf.scores(sessions), gpu.scores(sessions)
    diffs = np.concatenate([np.abs(q.therapist - r.therapist).ravel() for r, q in zip(ref, out, strict=True)])
    assert np.mean(diffs) <= CUDA_BF16_MEAN_ABS
    assert np.quantile(diffs, 0.99) <= CUDA_BF16_P99_ABS
    assert (_decisions(torch_clf, ref) == _decisions(gpu, out)).mean() >= ONNX_INT8_DECISION_AGREEMENT
    talk = np.concatenate([np.abs(q.talk - r.talk).ravel() for r, q in zip(ref, out, strict=True)])
    assert np.mean(talk) <= CUDA_BF16_MEAN_ABS


def test_long_turn_keeps_evidence_sentence(torch_clf):
    from tagger.types import Session, Utterance

    long_turn = (
        "Okay, so let me say back what I heard. You've had a really hard month at work and the panic has come back. "
        "What would it be like to write down the thoughts each time the panic shows up this week, along with "
        "what was going on around you? We can look at the record together next time we meet."
    )
    s = Session(
        "ev",
        (
            Utterance("ev", "0", "client", "The panic attacks are back, nearly every day at work."),
            Utterance("ev", "1", "therapist", long_turn),
        ),
    )
    t = torch_clf.tag_sessions([s], segmenter=Segmenter(min_words=10))[0][1]
    assert t.codes != ("other",)
    for code, sentence in t.evidence.items():
        assert code in t.codes and sentence in long_turn


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="no model installed"):
        load_classifier(tmp_path)


def test_mismatched_artifact_is_an_error(shipped_model, tmp_path):
    bad = tmp_path / "m"
    shutil.copytree(shipped_model, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["base_model_sha256"] = "0" * 64
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="differs from the one this adapter was trained on"):
        load_classifier(bad)
    cfg["therapist_labels"] = cfg["therapist_labels"][:-1]
    cfg["base_model_sha256"] = json.loads((shipped_model / "config.json").read_text())["base_model_sha256"]
    (bad / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelError, match="heads do not fit"):
        load_classifier(bad)


def test_shipped_artifact_is_small_and_fused(shipped_model):
    """The committed model stays an adapter over the PyPI base (the issue's 10 MB budget), and the
    lexical model its config fuses is there."""
    total = sum(p.stat().st_size for p in shipped_model.iterdir() if p.is_file())
    assert total < 10_000_000
    cfg = json.loads((shipped_model / "config.json").read_text())
    assert set(cfg["fusion"]) == {"therapist", "main", "talk", "risk"}
    assert all(0.0 <= w <= 0.8 for w in cfg["fusion"].values())
    if any(w > 0 for w in cfg["fusion"].values()):
        assert (shipped_model / "lexical.json").is_file() and (shipped_model / "lexical.npz").is_file()


def test_fused_artifact_without_its_lexical_model_is_an_error(shipped_model, tmp_path):
    bad = tmp_path / "m"
    shutil.copytree(shipped_model, bad)
    cfg = json.loads((bad / "config.json").read_text())
    cfg["fusion"] = {"therapist": 0.5, "main": 0.5, "talk": 0.5, "risk": 0.0}
    (bad / "config.json").write_text(json.dumps(cfg))
    for name in ("lexical.json", "lexical.npz"):
        (bad / name).unlink(missing_ok=True)
    with pytest.raises(ModelError, match="lexical.json/.npz are missing"):
        load_classifier(bad)


def test_explicit_risk_phrase_sets_the_flag_and_keeps_the_model_score(shipped_model, torch_clf):
    utts = [
        ("therapist", "How have things been this week?"),
        ("client", "I've got tablets in the car. I was going to take them all tonight."),
        ("therapist", "And at work?"),
        ("client", "Work has been really stressful lately."),
    ]
    s = _probe_session(utts)
    model_only = load_classifier(shipped_model, options=EngineOptions(backend="torch", risk_terms=False))
    with_terms, alone = torch_clf.tag_sessions([s])[0], model_only.tag_sessions([s])[0]
    thr = torch_clf.config.thresholds["risk_indicator"]
    for a, b in zip(with_terms, alone, strict=True):
        assert a.scores == b.scores  # the score is always the model's
    assert alone[1].risk_indicator == (alone[1].scores["risk_indicator"] >= thr)
    assert with_terms[1].risk_indicator and "risk_indicator" in with_terms[1].codes
    if not alone[1].risk_indicator:  # flagged by the phrase: it is the evidence
        assert with_terms[1].evidence == {"risk_indicator": "take them all"}
    assert not with_terms[3].risk_indicator
