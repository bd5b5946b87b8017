"""Fixtures for `tagger batch`: the shipped model, a fake model, a private ONNX cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.classify.artifact import DEFAULT_MODEL_DIR, ModelConfig
from tagger.taxonomy import CLIENT_TALK_CODES, load_taxonomy

# --------------------------------------------------------------------------- the shipped model


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """The default model; tests that need it are skipped while it is not installed."""
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.skip(f"no shipped model at {DEFAULT_MODEL_DIR} (models/tagger-minilm/config.json missing)")
    return DEFAULT_MODEL_DIR


@pytest.fixture(autouse=True)
def _tagger_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """ONNX graphs built once per test session in a temporary folder, never in the user's cache."""
    monkeypatch.setenv("TAGGER_CACHE", str(tmp_path_factory.getbasetemp() / "tagger-cache"))


# --------------------------------------------------------------------------- a fake model and engine


@pytest.fixture
def fake_model(tmp_path: Path) -> Path:
    """A model folder with a valid config (labels of the taxonomy) and dummy weights: enough for
    ``run_batch`` to fingerprint it; the fake engine does the tagging."""
    tax = load_taxonomy()
    cfg = ModelConfig(name="fake", base_model="none", base_model_sha256="0" * 64,
                      therapist_labels=tax.predictable_therapist_ids,
                      main_labels=("question", "reflection", "therapist_input", "other"),
                      talk_labels=CLIENT_TALK_CODES)
    d = tmp_path / "fake-model"
    d.mkdir()
    (d / "config.json").write_text(cfg.to_json())
    (d / "adapter.safetensors").write_bytes(b"weights v1")
    return d
