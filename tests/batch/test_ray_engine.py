"""The Ray engine (a local Ray cluster) gives byte-identical outputs to the local engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from batch_helpers import DATA_SAMPLES, batch_main, tree_bytes, write_bad_inputs, write_small_transcripts

pytest.importorskip("ray.data", reason="the Ray engine needs ray[data]")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # raised inside ray.data


def _both_engines(inp: Path, tmp_path: Path, args: list[str]) -> tuple[Path, Path]:
    local, ray = tmp_path / "local", tmp_path / "ray"
    rc_local = batch_main([str(inp), "-o", str(local), "--note", "none", "-q", *args])
    rc_ray = batch_main([str(inp), "-o", str(ray), "--engine", "ray", "--note", "none", "-q", *args])
    assert rc_local == rc_ray
    return local, ray


def test_ray_equals_local_small(tmp_path: Path, shipped_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 4, utterances=4)
    (inp / "bad.txt").write_text("Nurse: hello\n")
    local, ray = _both_engines(inp, tmp_path, ["--group-size", "2", "--workers", "1"])
    assert tree_bytes(ray) == tree_bytes(local)
    assert (ray / "errors.csv").read_text().count("\n") == 2  # header + the bad input


@pytest.mark.slow
def test_ray_equals_local_mixed_archive(tmp_path: Path, shipped_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp / "authored", 20, utterances=10)
    for name in ("mi_session.txt", "grief_session.vtt", "dbt_session.json", "panic_session.srt"):
        shutil.copy(DATA_SAMPLES / name, inp / name)
    write_bad_inputs(inp / "bad")
    local, ray = _both_engines(inp, tmp_path, ["--group-size", "4", "--workers", "2"])
    assert tree_bytes(ray) == tree_bytes(local)


def test_model_errors_inside_actors_keep_their_message() -> None:
    from tagger.batch.ray_engine import _model_error
    from tagger.errors import ModelError

    try:
        try:
            raise ModelError("no model installed at /x")
        except ModelError as inner:
            raise RuntimeError("actor died") from inner
    except RuntimeError as outer:
        assert _model_error(outer) == "no model installed at /x"
    assert _model_error(RuntimeError("ray.exceptions.RayTaskError: tagger.errors.ModelError: bad base\n  more")) \
        == "bad base"
    assert _model_error(RuntimeError("something else")) is None
