"""End to end on the CPU, each case one ``tagger`` process: wall time, real-time factor, peak memory.

    python eval/bench/bench_end_to_end.py [--minutes 60] [--utterances 10000] [--work runs/bench] [--json OUT]

- audio: ``tagger run SESSION.mp3 -o OUT --note md --device cpu`` on a generated two-voice session
  recording (default one hour): decode, ASR, diarization, roles, tagging and the draft note the
  clinician reviews and signs. Wall time, RTF (audio seconds per wall second), peak RSS of that
  process (``wait4``'s ``ru_maxrss``) and the time per stage the run records.
- transcripts: ``tagger tag ARCHIVE.csv -o OUT.jsonl`` on a 10,000-utterance archive (default).
  Utterances/s for the whole process (imports and model load included), and the steady-state rate
  without them: the same command on a 20-utterance archive measures the fixed cost, and
  ``(N - 20) / (T_N - T_20)`` is the rate of the work that grows with the input.

A first ``tagger tag`` on a few utterances runs before any timing, so a missing ONNX cache (the
int8 graph is exported once per model) is never in a figure.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import ROOT, machine_info, machine_markdown, run_measured, table, tagger_cmd  # noqa: E402

FIXED_COST_UTTERANCES = 20
#: float32 mono at 16 kHz: what the decoded recording alone takes in memory.
AUDIO_MIB_PER_MINUTE = 16000 * 4 * 60 / 2**20


def run_audio(path: Path, work: Path, *, note: str = "md") -> dict:
    """``tagger run`` on one recording; times, RTF, peak RSS and stage timings."""
    out = work / "out" / path.stem
    shutil.rmtree(out, ignore_errors=True)
    m = run_measured(tagger_cmd("run", str(path), "-o", str(out), "--note", note, "--device", "cpu", "-q"))
    doc = json.loads(next(out.glob("*.transcript.json")).read_text())
    notes = sorted(p.name for p in out.glob("*.note.*"))
    if not notes:
        raise RuntimeError(f"tagger run wrote no note into {out}")
    tr = doc["transcription"]
    stages = dict(tr["timings"])
    stages["start-up + tagging + note"] = m.wall_s - sum(stages.values())
    audio_s = float(tr["duration"])
    return {
        "file": path.name,
        "audio_s": round(audio_s, 1),
        "wall_s": round(m.wall_s, 1),
        "rtf": round(audio_s / m.wall_s, 2),
        "cpu_s": round(m.cpu_s, 1),
        "peak_rss_mib": round(m.peak_rss_mib),
        "audio_mib": round(audio_s / 60 * AUDIO_MIB_PER_MINUTE),
        "rss_beyond_audio_mib": round(m.peak_rss_mib - audio_s / 60 * AUDIO_MIB_PER_MINUTE),
        "utterances": len(doc["session"]["utterances"]),
        "speakers": tr["num_speakers"],
        "note": notes,
        "stages_s": {k: round(v, 1) for k, v in stages.items()},
        "backend": doc["run"]["backend"],
    }


_TAGGED = re.compile(r"tagged (\d+) utterances .*\(model (.+), (.+)\)")


def run_tag(path: Path, work: Path) -> dict:
    """``tagger tag`` on one transcript file: wall time, utterances/s, peak RSS."""
    out = work / "out" / f"{path.stem}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    m = run_measured(tagger_cmd("tag", str(path), "-o", str(out)))
    found = _TAGGED.search(m.stderr_tail)
    n = sum(1 for _ in out.open())
    if found and int(found.group(1)) != n:
        raise RuntimeError(f"tagger tag reported {found.group(1)} utterances but wrote {n}")
    return {
        "utterances": n,
        "wall_s": round(m.wall_s, 2),
        "utt_per_s": round(n / m.wall_s, 1),
        "cpu_s": round(m.cpu_s, 1),
        "peak_rss_mib": round(m.peak_rss_mib),
        "backend": found.group(3) if found else "?",
    }


def warm_up(work: Path) -> dict:
    """One untimed ``tagger tag`` so the ONNX int8 graph is cached before anything is timed."""
    return fixed_cost(work)


def fixed_cost(work: Path) -> dict:
    """``tagger tag`` on a 20-utterance archive: imports, model load and almost no work."""
    from inputs import transcript_archive

    return run_tag(transcript_archive(FIXED_COST_UTTERANCES, work).path, work)


def archive_case(n: int, work: Path, small: dict | None = None) -> dict:
    """``small``: a :func:`fixed_cost` result already measured in this run."""
    from inputs import transcript_archive

    small = small or fixed_cost(work)
    arch = transcript_archive(n, work)
    big = run_tag(arch.path, work)
    steady = (big["utterances"] - small["utterances"]) / max(big["wall_s"] - small["wall_s"], 1e-9)
    return {
        "archive": str(arch.path.relative_to(ROOT) if arch.path.is_relative_to(ROOT) else arch.path),
        "sessions": arch.sessions,
        "distinct_texts": arch.distinct_texts,
        "words_per_utterance": arch.words_per_utterance,
        "with_annomi": arch.with_annomi,
        "fixed_cost": small,
        "run": big,
        "steady_utt_per_s": round(steady, 1),
    }


def audio_markdown(r: dict) -> str:
    stages = ", ".join(f"{k} {v:.0f}" for k, v in r["stages_s"].items())
    return (
        table(
            ["recording", "audio", "wall", "RTF", "CPU s", "peak RSS", "utterances", "note"],
            [
                [
                    r["file"],
                    f"{r['audio_s'] / 60:.1f} min",
                    f"{r['wall_s']:.0f} s",
                    f"**{r['rtf']:.1f}x**",
                    r["cpu_s"],
                    f"{r['peak_rss_mib']} MiB",
                    r["utterances"],
                    ", ".join(r["note"]),
                ]
            ],
        )
        + f"\n\nBy stage (s): {stages}. Classifier backend: {r['backend']}."
    )


def archive_markdown(a: dict) -> str:
    r, f = a["run"], a["fixed_cost"]
    src = "authored corpus + AnnoMI-simple" if a["with_annomi"] else "authored corpus"
    return (
        table(
            ["input", "utterances", "wall", "utt/s (whole process)", "steady-state utt/s", "peak RSS"],
            [
                [
                    f"`{a['archive']}`",
                    r["utterances"],
                    f"{r['wall_s']:.1f} s",
                    f"**{r['utt_per_s']:.0f}**",
                    f"**{a['steady_utt_per_s']:.0f}**",
                    f"{r['peak_rss_mib']} MiB",
                ]
            ],
        )
        + f"\n\n{a['sessions']} sessions from the {src}, {a['distinct_texts']} distinct texts, "
        f"{a['words_per_utterance']} words per utterance. Fixed cost "
        f"(imports, model load, {f['utterances']} utterances): {f['wall_s']:.1f} s, {f['peak_rss_mib']} MiB. "
        f"Steady state = ({r['utterances']} - {f['utterances']}) / ({r['wall_s']:.1f} s - {f['wall_s']:.1f} s). "
        f"Backend: {r['backend']}."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--utterances", type=int, default=10000)
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from inputs import session_audio

    info = machine_info()
    warm_up(args.work)
    audio = run_audio(session_audio(args.minutes, args.work).path, args.work)
    arch = archive_case(args.utterances, args.work)
    print(machine_markdown(info) + "\n\n" + audio_markdown(audio) + "\n\n" + archive_markdown(arch))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "audio": audio, "archive": arch}, indent=1) + "\n")


if __name__ == "__main__":
    main()
