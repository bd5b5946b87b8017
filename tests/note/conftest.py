from __future__ import annotations

import pytest
from note_helpers import SESSIONS, load

from tagger.types import TaggedUtterance


@pytest.fixture(params=SESSIONS)
def session(request: pytest.FixtureRequest) -> tuple[str, list[TaggedUtterance]]:
    return request.param, load(request.param)
