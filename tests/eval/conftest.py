from __future__ import annotations

from pathlib import Path

import pytest

from tagger.evaluation.align import read_predictions
from tagger.io.labeled import LabeledSession, read_labeled
from tagger.types import TaggedUtterance

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def gold() -> list[LabeledSession]:
    return read_labeled(FIXTURES / "gold_codes.csv")


@pytest.fixture
def pred_a() -> list[TaggedUtterance]:
    return read_predictions(FIXTURES / "pred_a.jsonl")


@pytest.fixture
def pred_b() -> list[TaggedUtterance]:
    return read_predictions(FIXTURES / "pred_b.jsonl")
