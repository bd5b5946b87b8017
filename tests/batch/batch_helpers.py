"""Helpers of the batch tests: tiny archives, the CLI in and out of process, a fake engine."""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tagger.batch.work import AsrJob, GroupJob
from tagger.taxonomy import CLIENT_TALK_CODES, load_taxonomy
from tagger.types import Session, TaggedUtterance

REPO = Path(__file__).resolve().parents[2]
AUTHORED = REPO / "training" / "data" / "authored"
DATA_SAMPLES = REPO / "data_samples"

# `tagger batch` as a subprocess, also before the command is registered in tagger.cli
CLI_SNIPPET = (
    "import argparse, sys\n"
    "import tagger.cli as cli\n"
    "if 'batch' in cli.COMMANDS:\n"
    "    sys.exit(cli.main(['batch', *sys.argv[1:]]))\n"
    "from tagger.commands import batch\n"
    "from tagger.errors import TaggerError\n"
    "p = argparse.ArgumentParser(prog='tagger'); batch.register(p.add_subparsers(dest='command'))\n"
    "a = p.parse_args(['batch', *sys.argv[1:]])\n"
    "try:\n"
    "    sys.exit(a.handler(a))\n"
    "except TaggerError as e:\n"
    "    print(f'tagger batch: error: {e}', file=sys.stderr); sys.exit(e.exit_code)\n"
)
BATCH_CMD = [sys.executable, "-c", CLI_SNIPPET]


def batch_main(argv: list[str]) -> int:
    """``tagger batch ARGV`` in this process (through tagger.cli once the command is registered there)."""
    import tagger.cli as cli

    if "batch" in cli.COMMANDS:
        return cli.main(["batch", *argv])
    from tagger.commands import batch
    from tagger.errors import TaggerError

    p = argparse.ArgumentParser(prog="tagger")
    batch.register(p.add_subparsers(dest="command"))
    args = p.parse_args(["batch", *argv])
    try:
        return int(args.handler(args) or 0)
    except TaggerError as exc:
        print(f"tagger batch: error: {exc}", file=sys.stderr)
        return exc.exit_code


def write_small_transcripts(folder: Path, n: int, utterances: int = 8) -> list[Path]:
    """``n`` short CSV transcripts cut from the authored corpus (its ``codes`` column dropped)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for f in sorted(AUTHORED.glob("s[0-9]*.csv"))[:n]:
        with f.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))[:utterances]
        p = folder / f.name
        with p.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["session_id", "utterance_id", "speaker", "text"])
            w.writerows([r["session_id"], r["utterance_id"], r["speaker"], r["text"]] for r in rows)
        out.append(p)
    assert len(out) == n, f"the authored corpus has fewer than {n} sessions"
    return out


def write_bad_inputs(folder: Path) -> dict[str, str]:
    """Broken inputs and a fragment of the reason each must be reported with."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.csv").write_text("")
    (folder / "unknown_speaker.txt").write_text("Nurse: hello there\nPatient: hi\n")
    (folder / "broken.json").write_text('{"session_id": "x", "utterances": [')
    (folder / "binary.srt").write_bytes(b"\x00\x01\x02\x03 junk")
    return {"empty.csv": "empty", "unknown_speaker.txt": "unknown speaker", "broken.json": "invalid JSON",
            "binary.srt": "binary"}


def tree_bytes(out: Path) -> dict[str, bytes]:
    """The per-session JSONL and combined outputs of a batch folder (what must be reproducible)."""
    files = {p.relative_to(out).as_posix(): p.read_bytes() for p in (out / "sessions").rglob("*.jsonl")}
    for name in ("dataset.jsonl", "dataset.parquet", "summary.csv", "errors.csv"):
        files[name] = (out / name).read_bytes()
    return files


def partial_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.name.endswith(".part")]


class FakeEngine:
    """Tags without a model. Each score depends on the utterance *and on every session of its
    group*, as the real classifier's int8 scores do, so a test sees any change of grouping."""

    name = "fake"
    workers = 1
    threads = 1

    def __init__(self, fail_after_groups: int | None = None, fail_text: str | None = None) -> None:
        self.fail_after_groups = fail_after_groups
        self.fail_text = fail_text
        self.calls: list[tuple[str, Any]] = []
        self.codes = load_taxonomy().predictable_therapist_ids

    def transcribe(self, jobs: list[AsrJob]) -> Iterator[dict[str, Any]]:
        for job in jobs:
            self.calls.append(("asr", job.source))
            text = Path(job.path).read_text(errors="replace")
            utts = [{"utterance_id": str(i), "speaker": "therapist" if i % 2 == 0 else "client", "text": line,
                     "start": float(i), "end": float(i) + 0.5} for i, line in enumerate(text.split("|"))]
            session = {"session_id": job.session_id or Path(job.path).stem, "utterances": utts}
            if "no speech" in text:
                yield {"index": job.index, "error": {"stage": "asr", "type": "AudioError", "message": "no speech found",
                                                     "retry": False}}
            else:
                yield {"index": job.index, "session": session, "info": {}}

    def classify(self, jobs: Iterable[GroupJob], n_jobs: int) -> Iterator[dict[str, Any]]:
        for k, job in enumerate(jobs):
            if self.fail_after_groups is not None and k >= self.fail_after_groups:
                raise KeyboardInterrupt("simulated kill")
            self.calls.append(("classify", job.group))
            sessions = {i: [Session.from_dict(d) for d in ds] for i, ds in job.members}
            key = "|".join(s.session_id for ss in sessions.values() for s in ss)
            items = {}
            for i, ss in sessions.items():
                if self.fail_text and any(self.fail_text in u.text for s in ss for u in s.utterances):
                    items[i] = {"error": {"stage": "classify", "type": "ValueError", "message": "boom", "retry": True}}
                    continue
                items[i] = {"sessions": [{"session_id": s.session_id,
                                          "records": [self._tag(u, key).to_record() for u in s.utterances]}
                                         for s in ss]}
            yield {"group": job.group, "items": items, "run": {"tagger_version": "0", "model_name": "fake",
                                                                "backend": "fake"}}

    def _tag(self, u: Any, key: str) -> TaggedUtterance:
        h = hashlib.sha256(f"{key}#{u.text}".encode()).digest()
        if u.speaker == "therapist":
            scores = {c: h[j % len(h)] / 255 for j, c in enumerate(self.codes)}
            codes = tuple(c for c in self.codes if scores[c] > 0.9) or ("other",)
            return TaggedUtterance(u, codes, scores, main_behaviour="question")
        talk = CLIENT_TALK_CODES[h[0] % 3]
        risk = h[1] > 240
        scores = {c: (h[j] / 255) for j, c in enumerate(CLIENT_TALK_CODES)} | {"risk_indicator": h[1] / 255}
        return TaggedUtterance(u, (talk, "risk_indicator") if risk else (talk,), scores, client_talk=talk,
                               risk_indicator=risk)

    def close(self) -> None:
        pass
