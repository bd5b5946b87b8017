"""Fixtures for `tagger batch`: the shipped model, a fake model, a private ONNX cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from batch_helpers import DATA_SAMPLES

from tagger.classify.artifact import DEFAULT_MODEL_DIR, ModelConfig
from tagger.taxonomy import CLIENT_TALK_CODES, load_taxonomy

# --------------------------------------------------------------------------- the shipped model


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    """The default model (``TAGGER_BATCH_TEST_MODEL`` points the tests elsewhere while it is not shipped)."""
    override = os.environ.get("TAGGER_BATCH_TEST_MODEL")
    d = Path(override) if override else DEFAULT_MODEL_DIR
    if not (d / "config.json").is_file():
        pytest.skip(f"no shipped model at {d} (models/tagger-minilm/config.json missing)")
    return d


@pytest.fixture(scope="session")
def model_args(shipped_model: Path) -> list[str]:
    return [] if shipped_model == DEFAULT_MODEL_DIR else ["--model", str(shipped_model)]


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


@pytest.fixture
def copy_samples(tmp_path: Path):
    def copy(names: list[str], dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        for n in names:
            shutil.copy(DATA_SAMPLES / n, dest / n)
        return dest

    return copy
