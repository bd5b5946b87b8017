from __future__ import annotations

from pathlib import Path

import pytest

from tagger.classify.artifact import DEFAULT_MODEL_DIR


@pytest.fixture(scope="session", autouse=True)
def _onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    # derived ONNX files go to a per-run cache, never the user's
    import os

    os.environ.setdefault("TAGGER_CACHE", str(tmp_path_factory.mktemp("tagger-cache")))


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the shipped model is missing at {DEFAULT_MODEL_DIR}; run `tagger train` (see models/README.md)")
    return DEFAULT_MODEL_DIR
