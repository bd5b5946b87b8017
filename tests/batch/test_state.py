"""The state folder: one run at a time, leftovers of killed writes removed, done means outputs exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from tagger.batch.state import BatchState, Marker
from tagger.errors import InputError


def test_lock_and_partial_cleanup(tmp_path: Path) -> None:
    (tmp_path / "sessions").mkdir(parents=True)
    stale = tmp_path / "sessions" / ".a.jsonl.x1y2.part"
    stale.write_text("half")
    keep = tmp_path / "sessions" / "a.jsonl"
    keep.write_text("whole")
    with BatchState(tmp_path):
        assert not stale.exists() and keep.exists()
        with pytest.raises(InputError, match="another `tagger batch` run"):
            BatchState(tmp_path).open()
    BatchState(tmp_path).open().close()  # released on exit


def test_done_needs_fingerprint_and_outputs(tmp_path: Path) -> None:
    with BatchState(tmp_path) as st:
        m = Marker("a", "a.csv", "fp1", "done", ({"session_id": "a", "output": "sessions/a.jsonl", "utterances": 1},))
        st.write_marker(m)
        got = st.marker("a")
        assert got == m
        assert not st.is_done(got, "fp1")  # the output is missing
        (tmp_path / "sessions").mkdir()
        (tmp_path / "sessions" / "a.jsonl").write_text("{}\n")
        assert st.is_done(got, "fp1") and not st.is_done(got, "fp2")
        failed = Marker("b", "b.csv", "fp", "failed", error={"message": "bad"})
        assert st.is_settled(failed, "fp", retry_failed=False)
        assert not st.is_settled(failed, "fp", retry_failed=True)
        assert not st.is_settled(Marker("b", "b.csv", "fp", "failed", retry=True), "fp", retry_failed=False)
