"""`tagger train` machinery end to end on a tiny slice of the authored corpus (1 encoder layer, 1 epoch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.classify import load_classifier
from tagger.io.labeled import read_labeled
from tagger.training.data import AUTHORED_DIR, Corpus
from tagger.training.run import train_model
from tagger.training.trainer import TrainConfig


@pytest.fixture(scope="module")
def tiny_corpus() -> Corpus:
    ls = [read_labeled(AUTHORED_DIR / f"{sid}.csv", fmt="codes")[0] for sid in ("s001", "s015", "s043", "s071")]
    return Corpus("authored", {"train": tuple(ls[:2]), "calib": (ls[2],), "dev": (ls[3],)}, {"test": "0"})


CFG = TrainConfig(num_layers=1, epochs=1, lora_r=2, window=16, windows_per_batch=2, max_tokens=32, gru_hidden=16)


def test_train_writes_loadable_artifact_and_card(tiny_corpus, tmp_path: Path):
    res = train_model([tiny_corpus], CFG, tmp_path / "m", baseline=True, command="tagger train (test)")
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert files == {"config.json", "adapter.safetensors", "README.md"}
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
