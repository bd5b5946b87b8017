"""`tagger train` machinery end to end on a tiny slice of the authored corpus (1 encoder layer, 1 epoch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tagger.classify import load_classifier
from tagger.classify.engine import EngineOptions
from tagger.classify.lexical import fuse
from tagger.io.labeled import read_labeled
from tagger.training.data import AUTHORED_DIR, Corpus
from tagger.training.run import probabilities, train_model
from tagger.training.trainer import TrainConfig, predict_logits, prepare


@pytest.fixture(scope="module")
def tiny_corpus() -> Corpus:
    ls = [read_labeled(AUTHORED_DIR / f"{sid}.csv", fmt="codes")[0] for sid in ("s001", "s015", "s043", "s071")]
    return Corpus("authored", {"train": tuple(ls[:2]), "calib": (ls[2],), "dev": (ls[3],)}, {"test": "0"})


CFG = TrainConfig(num_layers=1, epochs=1, lora_r=2, window=16, windows_per_batch=2, max_tokens=32, gru_hidden=16)


def test_train_writes_loadable_artifact_and_card(tiny_corpus, tmp_path: Path):
    res = train_model([tiny_corpus], CFG, tmp_path / "m", baseline=True, command="tagger train (test)")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    fused = any(w > 0 for w in res.config.fusion.values())
    assert set(res.config.fusion) == {"therapist", "main", "talk", "risk"}
    assert files == {"config.json", "adapter.safetensors", "README.md"} | (
        {"lexical.json", "lexical.npz"} if fused else set()
    )
    assert (tmp_path / "m" / "adapter.safetensors").stat().st_size < 1_000_000
    card = (tmp_path / "m" / "README.md").read_text()
    assert "tagger train (test)" in card and "Per code, authored dev" in card
    assert set(res.config.thresholds) == set(res.config.therapist_labels) | {"risk_indicator"}
    assert "therapist_macro_f1" in res.metrics["authored"] and "therapist_macro_f1" in res.baseline_metrics["authored"]
    clf = load_classifier(tmp_path / "m")
    tagged = clf.tag_sessions([tiny_corpus.sessions["dev"][0].session])
    assert len(tagged[0]) == len(tiny_corpus.sessions["dev"][0].session.utterances)


def test_training_is_reproducible(tiny_corpus, tmp_path: Path):
    a = train_model([tiny_corpus], CFG, tmp_path / "a", baseline=False)
    b = train_model([tiny_corpus], CFG, tmp_path / "b", baseline=False)
    assert (tmp_path / "a" / "adapter.safetensors").read_bytes() == (
        tmp_path / "b" / "adapter.safetensors"
    ).read_bytes()
    assert a.config.thresholds == b.config.thresholds


def test_inference_reproduces_the_fused_training_scores(tiny_corpus, tmp_path: Path):
    """The engine fuses the network and the lexical model exactly as training calibrated them."""
    out = tmp_path / "m"
    res = train_model([tiny_corpus], CFG, out, baseline=True)
    assert res.config.fusion["therapist"] > 0  # the lexical model takes part (else this checks nothing)
    clf = load_classifier(out, options=EngineOptions(backend="torch"))
    assert clf.model.lexical is not None
    dev = tiny_corpus.sessions["dev"][0]
    engine = clf.scores([dev.session])[0]

    net = predict_logits(clf.model.encoder, clf.heads, prepare([dev], clf.tokenizer, clf.config.labels, 32))
    utts = dev.session.utterances
    lex = clf.model.lexical.session_logits([([u.text for u in utts], [u.speaker for u in utts])])
    want = probabilities(fuse(net, lex, res.config.fusion), res.config.temperatures)
    for head in ("therapist", "main", "talk", "risk"):
        np.testing.assert_allclose(getattr(engine, head), want[head], atol=1e-4)
    network_only = probabilities(net, res.config.temperatures)
    assert np.abs(engine.therapist - network_only["therapist"]).max() > 1e-3


def test_weight_averaging_keeps_the_average(tiny_corpus, tmp_path: Path):
    import dataclasses

    plain = train_model([tiny_corpus], CFG, tmp_path / "plain", baseline=False)
    # decay 0: the average is the latest weights, so the artifact is the plain one
    train_model([tiny_corpus], dataclasses.replace(CFG, ema=0.0), tmp_path / "zero", baseline=False)
    half = train_model([tiny_corpus], dataclasses.replace(CFG, ema=0.5), tmp_path / "half", baseline=False)
    weights = {n: (tmp_path / n / "adapter.safetensors").read_bytes() for n in ("plain", "zero", "half")}
    assert plain.config.training["config"]["ema"] is None and half.config.training["config"]["ema"] == 0.5
    assert weights["zero"] == weights["plain"]
    assert weights["half"] != weights["plain"]


def test_corpus_weights_change_training_and_are_recorded(tiny_corpus, tmp_path: Path):
    import dataclasses

    train_model([tiny_corpus], CFG, tmp_path / "plain", baseline=False)
    same = dataclasses.replace(CFG, corpus_weights=(("authored", 1.0),))
    train_model([tiny_corpus], same, tmp_path / "one", baseline=False)
    train_model(
        [tiny_corpus], dataclasses.replace(CFG, corpus_weights=(("authored", 3.0),)), tmp_path / "heavy", baseline=False
    )
    weights = {n: (tmp_path / n / "adapter.safetensors").read_bytes() for n in ("plain", "one", "heavy")}
    assert weights["one"] == weights["plain"]  # weight 1 is the unweighted loss, bit for bit
    assert weights["heavy"] != weights["plain"]
    recorded = {n: json.loads((tmp_path / n / "config.json").read_text())["training"]["config"] for n in weights}
    assert recorded["plain"]["corpus_weights"] == [] and recorded["heavy"]["corpus_weights"] == [["authored", 3.0]]
    assert "Loss weights per corpus" in (tmp_path / "heavy" / "README.md").read_text()
    assert "Loss weights per corpus" not in (tmp_path / "plain" / "README.md").read_text()


@pytest.mark.parametrize(
    ("weights", "message"),
    [((("annomi", 2.0),), r"no such corpus in training \(have authored\)"), ((("authored", 0.0),), "positive")],
)
def test_corpus_weights_are_checked(tiny_corpus, tmp_path: Path, weights, message):
    import dataclasses

    from tagger.errors import InputError

    with pytest.raises(InputError, match=message):
        train_model([tiny_corpus], dataclasses.replace(CFG, corpus_weights=weights), tmp_path / "m")


def test_utterance_risk_head_trains_the_encoder_and_ships_mixed(tiny_corpus, tmp_path: Path):
    import dataclasses

    from safetensors.numpy import load_file

    from tagger.classify.artifact import load_artifact
    from tagger.classify.engine import Classifier
    from tagger.training.calibrate import RISK_MIX_GRID

    plain = train_model([tiny_corpus], CFG, tmp_path / "plain", baseline=False)
    train_model([tiny_corpus], dataclasses.replace(CFG, risk_aux=0.0), tmp_path / "off", baseline=False)
    aux = train_model([tiny_corpus], dataclasses.replace(CFG, risk_aux=1.0), tmp_path / "aux", baseline=False)
    weights = {n: (tmp_path / n / "adapter.safetensors").read_bytes() for n in ("plain", "off", "aux")}
    assert weights["off"] == weights["plain"]  # weight 0 builds no second head: the plain run, bit for bit
    assert weights["aux"] != weights["plain"]  # the head's gradient reaches the encoder and the input layer
    tensors = {n: set(load_file(str(tmp_path / n / "adapter.safetensors"))) for n in ("plain", "aux")}
    assert tensors["aux"] - tensors["plain"] == {"heads.risk_utterance.weight", "heads.risk_utterance.bias"}
    assert not plain.config.risk_utterance and plain.config.risk_mix == 0.0
    assert aux.config.risk_utterance and aux.config.risk_mix in RISK_MIX_GRID
    assert plain.config.training["config"]["risk_aux"] == 0.0 and aux.config.training["config"]["risk_aux"] == 1.0
    card = (tmp_path / "aux" / "README.md").read_text()
    assert "A second risk head" in card and f"m = {aux.config.risk_mix:g}" in card
    assert "A second risk head" not in (tmp_path / "plain" / "README.md").read_text()

    # the engine mixes the two risk logits with the artifact's weight; the other heads do not see it
    session = tiny_corpus.sessions["dev"][0].session
    model = load_artifact(tmp_path / "aux")
    by_mix = {
        m: Classifier(
            dataclasses.replace(model, config=dataclasses.replace(model.config, risk_mix=m)),
            EngineOptions(backend="torch"),
        ).scores([session])[0]
        for m in (0.0, 1.0)
    }
    assert not np.allclose(by_mix[0.0].risk, by_mix[1.0].risk)
    np.testing.assert_array_equal(by_mix[0.0].therapist, by_mix[1.0].therapist)
    assert len(load_classifier(tmp_path / "aux").tag_sessions([session])[0]) == len(session.utterances)


def test_negative_risk_probe_weight_is_refused(tiny_corpus, tmp_path: Path):
    import dataclasses

    from tagger.errors import InputError

    with pytest.raises(InputError, match="expected a weight of 0 or more"):
        train_model([tiny_corpus], dataclasses.replace(CFG, risk_aux=-1.0), tmp_path / "m")
    assert not (tmp_path / "m").exists()


def test_balanced_fusion_fits_each_corpus_once(tiny_corpus, tmp_path: Path):
    import dataclasses

    from tagger.training.calibrate import FUSION_GRID

    other = Corpus("annomi", tiny_corpus.sessions, tiny_corpus.files)  # a second corpus (the same sessions)
    res = train_model([tiny_corpus, other], dataclasses.replace(CFG, balanced_fusion=True), tmp_path / "m")
    assert set(res.config.fusion) == {"therapist", "main", "talk", "risk"}
    assert all(w in FUSION_GRID for w in res.config.fusion.values())
    assert res.config.training["config"]["balanced_fusion"] is True
    if any(w > 0 for w in res.config.fusion.values()):
        assert "each corpus's calib log-loss counting once" in (tmp_path / "m" / "README.md").read_text()


def test_reaction_swap_zero_is_the_plain_run_and_one_is_recorded(tiny_corpus, tmp_path: Path):
    import dataclasses

    from tagger.errors import InputError

    train_model([tiny_corpus], CFG, tmp_path / "plain", baseline=False)
    train_model([tiny_corpus], dataclasses.replace(CFG, reaction_swap=0.0), tmp_path / "zero", baseline=False)
    res = train_model([tiny_corpus], dataclasses.replace(CFG, reaction_swap=1.0), tmp_path / "one", baseline=False)
    weights = {n: (tmp_path / n / "adapter.safetensors").read_bytes() for n in ("plain", "zero", "one")}
    assert weights["zero"] == weights["plain"]  # no swaps: the plain run, bit for bit
    assert weights["one"] != weights["plain"]  # s001's risk questions were swapped out
    assert res.config.training["config"]["reaction_swap"] == 1.0
    assert "Reaction swaps" in (tmp_path / "one" / "README.md").read_text()
    assert "Reaction swaps" not in (tmp_path / "plain" / "README.md").read_text()
    with pytest.raises(InputError, match="expected a probability from 0 to 1"):
        train_model([tiny_corpus], dataclasses.replace(CFG, reaction_swap=1.5), tmp_path / "bad")
