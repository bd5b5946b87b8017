"""`tagger batch` end to end on a generated archive: transcripts/hour per engine, kill-and-resume, engine equality.

    nice python eval/bench/bench_batch.py [--n 1000] [--engines local,ray] [--model DIR] [--work DIR]
                                          [--kill-at 0.3] [--group-size 32] [--workers N] [--results]

1. Generates an archive of ``--n`` transcripts from the authored corpus (training/data/authored)
   in every transcript format (csv, txt, json, jsonl, vtt, srt) under three "site" folders, a
   manifest with per-session metadata, and ``--bad`` broken inputs (wrong speaker labels, an
   empty file, binary junk, bad JSON, a fake recording) that must land in errors.csv.
2. Runs ``tagger batch MANIFEST -o OUT`` once per engine, uninterrupted, as a subprocess (model
   load and Ray start-up included in the wall time).
3. Runs the first engine again, SIGKILLs it once ``--kill-at`` of the sessions are written,
   re-runs it, and checks the outputs are byte-identical to the uninterrupted run.
4. Checks every engine's outputs are byte-identical to the first engine's.

Prints a Markdown section; ``--results`` also appends it to eval/bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
AUTHORED = REPO / "training" / "data" / "authored"
FORMATS = ("csv", "txt", "json", "jsonl", "vtt", "srt")
COMPARED = ("dataset.jsonl", "dataset.parquet", "summary.csv", "errors.csv")

# `tagger batch`, also before the command is registered in tagger.cli
_CLI = (
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
BATCH_CMD = [sys.executable, "-c", _CLI]


# --------------------------------------------------------------------------- archive


def _read_authored() -> list[tuple[dict[str, str], list[dict[str, str]]]]:
    """(metadata from sessions.csv, utterance rows) of every authored session."""
    meta: dict[str, dict[str, str]] = {}
    if (AUTHORED / "sessions.csv").is_file():
        with (AUTHORED / "sessions.csv").open(newline="", encoding="utf-8") as fh:
            meta = {r["session_id"]: r for r in csv.DictReader(fh)}
    sessions = []
    for f in sorted(AUTHORED.glob("s[0-9]*.csv")):
        with f.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        sessions.append((meta.get(f.stem, {}), rows))
    if not sessions:
        raise SystemExit(f"no authored sessions in {AUTHORED}")
    return sessions


def _ts(sec: float, sep: str) -> str:
    h, rem = divmod(sec, 3600)
    m, s = divmod(rem, 60)
    return f"{int(h):02d}:{int(m):02d}:{int(s):02d}{sep}{int(round((s % 1) * 1000)):03d}"


def _write_transcript(path: Path, sid: str, rows: list[dict[str, str]], fmt: str) -> None:
    t = 1.0
    utts = []
    for i, r in enumerate(rows):
        dur = max(1.0, len(r["text"].split()) / 2.5)
        utts.append({"utterance_id": str(i), "speaker": r["speaker"], "text": r["text"], "start": round(t, 2),
                     "end": round(t + dur, 2)})
        t += dur + 0.6
    role = {"therapist": "Therapist", "client": "Client"}
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["session_id", "utterance_id", "speaker", "text", "start", "end"])
            for u in utts:
                w.writerow([sid, u["utterance_id"], u["speaker"], u["text"], u["start"], u["end"]])
    elif fmt == "txt":
        path.write_text("".join(f"{role[u['speaker']]}: {u['text']}\n" for u in utts), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps({"session_id": sid, "utterances": utts}, indent=1), encoding="utf-8")
    elif fmt == "jsonl":
        path.write_text("".join(json.dumps({"session_id": sid, **u}) + "\n" for u in utts), encoding="utf-8")
    elif fmt == "vtt":
        cues = [f"{_ts(u['start'], '.')} --> {_ts(u['end'], '.')}\n<v {role[u['speaker']]}>{u['text']}\n" for u in utts]
        path.write_text("WEBVTT\n\n" + "\n".join(cues), encoding="utf-8")
    elif fmt == "srt":
        cues = [f"{i + 1}\n{_ts(u['start'], ',')} --> {_ts(u['end'], ',')}\n{role[u['speaker']]}: {u['text']}\n"
                for i, u in enumerate(utts)]
        path.write_text("\n".join(cues), encoding="utf-8")


def make_archive(root: Path, n: int, bad: int, seed: int = 7) -> Path:
    """``n`` good transcripts + ``bad`` broken inputs under ``root``; returns the manifest path."""
    rng = random.Random(seed)
    corpus = _read_authored()
    root.mkdir(parents=True, exist_ok=True)
    manifest = []
    for k in range(n):
        info, base = corpus[k % len(corpus)]
        cut = (k // len(corpus)) % 7  # copies of a session differ: they drop a few final turns
        rows = base[: max(4, len(base) - cut)]
        site = f"site_{'abc'[k % 3]}"
        fmt = FORMATS[k % len(FORMATS)]
        sid = f"s{k:05d}"
        rel = f"{site}/{sid}.{fmt}"
        (root / site).mkdir(exist_ok=True)
        _write_transcript(root / rel, sid, rows, fmt)
        manifest.append({"path": rel, "site": site, "therapist_id": f"T{rng.randint(1, 40):02d}",
                         "week": str(rng.randint(1, 12)), "modality": info.get("modality", ""),
                         "presenting_problem": info.get("presenting_problem", "")})
    junk = [("bad/unknown_speaker.txt", "Nurse: hello\nPatient: hi\n"), ("bad/empty.csv", ""),
            ("bad/binary.csv", "\x00\x01\x02PK junk"), ("bad/broken.json", '{"session_id": "x", "utterances": ['),
            ("bad/fake_recording.wav", "RIFF this is not audio")]
    for j in range(bad):
        rel, content = junk[j % len(junk)]
        rel = rel if j < len(junk) else rel.replace("/", f"/{j}_")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content.encode("latin-1"))
        manifest.append({"path": rel, "site": "bad"})
    path = root / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "site", "therapist_id", "week", "modality", "presenting_problem"],
                           restval="")
        w.writeheader()
        w.writerows(manifest)
    return path


# --------------------------------------------------------------------------- runs


def batch_args(manifest: Path, out: Path, engine: str, args: argparse.Namespace) -> list[str]:
    """``local-t1`` is the local engine with ``--threads 1``."""
    engine, _, threads = engine.partition("-t")
    cmd = [str(manifest), "-o", str(out), "--engine", engine, *(["--threads", threads] if threads else []),
           "--group-size", str(args.group_size), "-q",
           "--note", args.note]
    if args.model:
        cmd += ["--model", args.model]
    if args.workers:
        cmd += ["--workers", str(args.workers)]
    return cmd


def run(manifest: Path, out: Path, engine: str, args: argparse.Namespace) -> dict:
    t = time.perf_counter()
    proc = subprocess.run([*BATCH_CMD, *batch_args(manifest, out, engine, args)], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{engine} run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    info = json.loads((out / "run.json").read_text())
    return {"engine": engine, "rc": proc.returncode, "wall": wall, "tagged": info["tagged"],
            "failed": info["failed"], "sessions": info["sessions"], "utterances": info["utterances"],
            "workers": info["workers"], "threads": info.get("threads", 0),
            "backend": info["backend"], "stages": info["stage_seconds"]}


def kill_and_resume(manifest: Path, out: Path, engine: str, args: argparse.Namespace, n_good: int) -> dict:
    cmd = [*BATCH_CMD, *batch_args(manifest, out, engine, args)]
    target = max(1, int(args.kill_at * n_good))
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    written = 0
    while proc.poll() is None:
        sessions = out / "sessions"
        written = sum(1 for _ in sessions.rglob("*.jsonl")) if sessions.is_dir() else 0
        if written >= target:
            os.killpg(proc.pid, signal.SIGKILL)  # the run and any worker it started
            break
        time.sleep(0.5)
    proc.wait()
    first = time.perf_counter() - t
    resumed = run(manifest, out, engine, args)
    return {"killed_after": written, "first_wall": first, "resume": resumed}


def same_outputs(a: Path, b: Path) -> list[str]:
    """Names of the outputs that differ between two output folders (empty: byte-identical)."""
    diff = [f for f in COMPARED if not filecmp.cmp(a / f, b / f, shallow=False)]
    sa = sorted(p.relative_to(a).as_posix() for p in (a / "sessions").rglob("*.jsonl"))
    sb = sorted(p.relative_to(b).as_posix() for p in (b / "sessions").rglob("*.jsonl"))
    if sa != sb:
        diff.append("sessions/ (file lists)")
    else:
        diff += [s for s in sa if not filecmp.cmp(a / s, b / s, shallow=False)]
    left = [p for p in b.rglob("*.part")]
    if left:
        diff.append(f"{len(left)} temporary .part files left")
    return diff


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {len(os.sched_getaffinity(0))} cores available, load average {load:.1f} at start"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000, help="good transcripts in the archive (default 1000)")
    ap.add_argument("--bad", type=int, default=5, help="broken inputs added to the archive (default 5)")
    ap.add_argument("--engines", default="local,ray", help="comma-separated (default local,ray; local-t1: local "
                    "with --threads 1); the first is also killed and resumed")
    ap.add_argument("--model", default=None, help="model directory (default: the shipped model)")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--group-size", type=int, default=32)
    ap.add_argument("--note", default="none", choices=("soap", "dap", "birp", "none"))
    ap.add_argument("--kill-at", type=float, default=0.3,
                    help="kill when this fraction of sessions is written; 0: skip")
    ap.add_argument("--work", type=Path, default=None, help="folder for the archive and outputs (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--results", action="store_true", help="append the section to eval/bench/RESULTS.md")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench_batch_"))
    os.environ.setdefault("TAGGER_CACHE", str(work / "cache"))
    host = machine()
    manifest = make_archive(work / "archive", args.n, args.bad)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    runs = []
    for e in engines:
        out = work / f"out_{e}"
        shutil.rmtree(out, ignore_errors=True)
        r = run(manifest, out, e, args)
        runs.append(r)
        print(f"{e}: {r['tagged']} transcripts in {r['wall']:.0f} s -> {3600 * r['tagged'] / r['wall']:.0f}/h "
              f"(failed {r['failed']}, backend {r['backend']}, {r['workers']} workers × {r['threads']} threads, "
              f"stages {r['stages']})",
              flush=True)
    first = work / f"out_{engines[0]}"
    checks = []
    for e in engines[1:]:
        d = same_outputs(first, work / f"out_{e}")
        checks.append(f"{e} vs {engines[0]}: " + ("byte-identical" if not d else f"DIFFERENT: {', '.join(d[:5])}"))
    kr = None
    if args.kill_at > 0:
        out = work / f"out_{engines[0]}_killed"
        shutil.rmtree(out, ignore_errors=True)
        kr = kill_and_resume(manifest, out, engines[0], args, args.n)
        d = same_outputs(first, out)
        checks.append(f"{engines[0]} killed after {kr['killed_after']} sessions, resumed "
                      f"({kr['resume']['tagged']} tagged on resume): "
                      + ("byte-identical to the uninterrupted run" if not d else f"DIFFERENT: {', '.join(d[:5])}"))
    for c in checks:
        print(c, flush=True)

    model = args.model or "models/tagger-minilm (shipped)"
    cmd = "python eval/bench/bench_batch.py " + " ".join(a for a in sys.argv[1:] if a != "--results")
    lines = [f"## tagger batch ({time.strftime('%Y-%m-%d')})", "",
             f"Command: `{cmd.strip()}`", "",
             f"Archive: {args.n} generated transcripts (authored corpus, csv/txt/json/jsonl/vtt/srt, "
             f"{runs[0]['utterances']} utterances in total) + {args.bad} broken inputs; model {model}; "
             f"group size {args.group_size}; notes {args.note}. Machine: {host}.", "",
             "| engine | workers × threads | backend | wall s | classify s | transcripts/hour | failed |",
             "|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['engine']} | {r['workers']} × {r['threads']} | {r['backend']} | {r['wall']:.0f} | "
                     f"{r['stages'].get('classify', 0):.0f} | {3600 * r['tagged'] / r['wall']:.0f} | {r['failed']} |")
    lines += [""] + [f"- {c}" for c in checks] + [""]
    section = "\n".join(lines)
    print()
    print(section)
    if args.results:
        path = REPO / "eval" / "bench" / "RESULTS.md"
        text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n\n"
        path.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
    if not args.keep and args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    if any("DIFFERENT" in c for c in checks):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
