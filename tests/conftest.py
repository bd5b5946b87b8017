"""Shared fixtures: repository paths, the sample transcripts and the public AnnoMI subset."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA_SAMPLES = REPO / "data_samples"
# The public AnnoMI subset sits next to the repository (it must not be copied into it).
ANNOMI_DIR = Path(
    os.environ.get("TAGGER_ANNOMI_DIR") or Path(__file__).resolve().parents[2] / "shared" / "data" / "annomi"
)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def data_samples() -> Path:
    return DATA_SAMPLES


@pytest.fixture(scope="session")
def annomi_dir() -> Path:
    """The folder holding AnnoMI-simple.csv and AnnoMI-full.csv; the test is skipped without it."""
    if not (ANNOMI_DIR / "AnnoMI-simple.csv").is_file() or not (ANNOMI_DIR / "AnnoMI-full.csv").is_file():
        pytest.skip(f"AnnoMI not found at {ANNOMI_DIR} (set TAGGER_ANNOMI_DIR)")
    return ANNOMI_DIR


@pytest.fixture(scope="session")
def annomi_slice(annomi_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first transcript of the shared AnnoMI-simple.csv, in its own columns (skipped without AnnoMI)."""
    with (annomi_dir / "AnnoMI-simple.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    first = rows[1][0]
    out = tmp_path_factory.mktemp("annomi") / "annomi_slice.csv"
    with out.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([rows[0], *(r for r in rows[1:] if r[0] == first)])
    return out


@pytest.fixture(scope="session", autouse=True)
def _tagger_cache() -> None:
    """Derived ONNX encoders go to a cache inside the checkout (ignored by git), not the user's home."""
    os.environ.setdefault("TAGGER_CACHE", str(REPO / ".cache" / "test-cache"))
