"""Kill `tagger batch` (SIGKILL) mid-run, run it again: the outputs equal an uninterrupted run, byte for byte."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from batch_helpers import BATCH_CMD, batch_main, partial_files, tree_bytes, write_bad_inputs, write_small_transcripts


def test_sigkill_then_resume_is_identical(tmp_path: Path, shipped_model: Path) -> None:
    inp = tmp_path / "in"
    write_small_transcripts(inp, 30, utterances=6)
    write_bad_inputs(inp / "bad")
    common = ["--group-size", "3", "--note", "none", "-q"]
    ref = tmp_path / "ref"
    assert batch_main([str(inp), "-o", str(ref), *common]) == 1  # the bad inputs fail

    out = tmp_path / "out"
    proc = subprocess.Popen([*BATCH_CMD, str(inp), "-o", str(out), *common], env=os.environ.copy(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    written = 0
    deadline = time.monotonic() + 300
    while proc.poll() is None and time.monotonic() < deadline:
        written = len(list((out / "sessions").glob("*.jsonl"))) if (out / "sessions").is_dir() else 0
        if written:  # the first outputs are there: kill it now, mid-run
            os.killpg(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, f"the run ended before it could be killed: {proc.stderr.read()[-2000:]}"
    assert 0 < written < 30

    resumed = subprocess.run([*BATCH_CMD, str(inp), "-o", str(out), *common], env=os.environ.copy(),
                             capture_output=True, text=True)
    assert resumed.returncode == 1, resumed.stderr
    info = json.loads((out / "run.json").read_text())
    assert info["already_done"] >= written - 3 and info["already_done"] + info["tagged"] == 30  # at most a group redone
    assert tree_bytes(out) == tree_bytes(ref)
    assert partial_files(out) == []
