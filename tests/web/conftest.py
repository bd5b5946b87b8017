"""Fixtures of the web app tests: an app on a temporary data dir with three users and API tokens.

The app runs the real library (the shipped classifier); transcripts keep most tests fast.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

if importlib.util.find_spec("fastapi") is None:  # the web extra is not installed: pip install -e '.[web]'
    collect_ignore_glob = ["test_*.py"]
else:
    from fastapi.testclient import TestClient
    from web_helpers import WebEnv, make_users, web_settings

    from tagger.web import create_app


@pytest.fixture()
def web(tmp_path: Path) -> Iterator[WebEnv]:
    settings = web_settings(tmp_path / "data")
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        yield WebEnv(settings, client, tokens)


@pytest.fixture(scope="module")
def done_web(tmp_path_factory: pytest.TempPathFactory, data_samples: Path) -> Iterator[tuple[WebEnv, str]]:
    """One app for a whole test module, with alice's CBT transcript processed."""
    settings = web_settings(tmp_path_factory.mktemp("web") / "data")
    tokens = make_users(settings)
    with TestClient(create_app(settings)) as client:
        env = WebEnv(settings, client, tokens)
        r = env.upload(data_samples / "cbt_session.csv")
        assert r.status_code == 201, r.text
        s = env.wait(r.json()["id"])
        assert s["status"] == "done", s
        yield env, s["id"]
