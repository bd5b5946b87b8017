from __future__ import annotations

from pathlib import Path

import pytest

from tagger.classify.artifact import DEFAULT_MODEL_DIR


@pytest.fixture(scope="session")
def shipped_model() -> Path:
    if not (DEFAULT_MODEL_DIR / "config.json").is_file():
        pytest.fail(f"the shipped model is missing at {DEFAULT_MODEL_DIR}; run `tagger train` (see models/README.md)")
    return DEFAULT_MODEL_DIR
