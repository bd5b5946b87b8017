"""Audio pipeline benchmark on generated sessions: WER, speaker attribution, roles, speed.

    python eval/audio_bench.py [--out runs/audio-bench] [--beam-size 5] [--batched] [--quick]

Every dialogue in ``tests/audio/dialogues`` is spoken with espeak-ng voices (``tagger.audio.synth``:
two voices, or three for couples/family sessions), written in a rotating container format, and
run through ``tagger.audio.transcribe``. One two-voice session is also written as a stereo file
with one speaker per channel. Speed is measured on one long session (all two-voice dialogues in
a row, several minutes): wall-clock real-time factor (audio seconds per processing second,
model loading and imports included) and the CPU seconds used. Results go to ``results.json``
and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tagger.audio.options import TranscribeOptions  # noqa: E402
from tagger.audio.score import score_session  # noqa: E402
from tagger.audio.synth import Turn, read_dialogue, synthesize_session  # noqa: E402
from tagger.audio.transcribe import transcribe  # noqa: E402

DIALOGUES = ROOT / "tests" / "audio" / "dialogues"
FORMATS = (".mp3", ".wav", ".m4a", ".ogg", ".flac", ".webm", ".mp4")
TARGETS = {"wer": 0.10, "attribution": 0.95, "therapist_sessions": 0.95, "rtf": 10.0}


def run_one(path: Path, turns, options: TranscribeOptions) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    session, info = transcribe(path, options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    ref = [(t.speaker_id, t.role, t.text) for t in turns]
    hyp = [(u.speaker_label, u.speaker, u.text) for u in session.utterances]
    s = score_session(ref, hyp)
    return {
        "file": path.name,
        "duration_s": round(info.duration, 1),
        "ref_speakers": len({t.speaker_id for t in turns}),
        "found_speakers": info.num_speakers,
        "diarization": info.diarization,
        "wer": round(s.wer, 4),
        "ref_words": s.ref_words,
        "attribution": round(s.attribution, 4),
        "role_word_accuracy": round(s.role_word_accuracy, 4),
        "therapist_correct": s.therapist_correct,
        "role_confidence": info.role_confidence,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rtf_wall": round(info.duration / wall, 2),
        "timings": dict(info.timings),
        "warnings": list(info.warnings),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "audio-bench")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--batched", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="three sessions and no long run")
    ap.add_argument("--no-long", action="store_true", help="skip the long speed run")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    options = TranscribeOptions(beam_size=args.beam_size, batched=args.batched)

    names = sorted(p.stem for p in DIALOGUES.glob("*.csv"))
    if args.quick:
        names = [n for n in names if n in ("s01_drinking", "s04_sleep", "c01_couple")]
    rows = []
    for i, name in enumerate(names):
        turns = read_dialogue(DIALOGUES / f"{name}.csv")
        ext = FORMATS[i % len(FORMATS)]
        synth = synthesize_session(turns, args.out / f"{name}{ext}", seed=args.seed + i)
        rows.append({"session": name, **run_one(synth.path, synth.turns, options)})
        print(f"{name}: {json.dumps(rows[-1])}", file=sys.stderr, flush=True)
    # One speaker per channel.
    turns = read_dialogue(DIALOGUES / "s02_anxiety.csv")
    synth = synthesize_session(turns, args.out / "s02_anxiety_stereo.m4a", seed=args.seed, stereo=True)
    rows.append({"session": "s02_anxiety (stereo)", **run_one(synth.path, synth.turns, options)})

    long_row = None
    if not (args.quick or args.no_long):
        turns = []
        for name in (n for n in names if n.startswith("s")):
            turns.extend(Turn(t.speaker_id, t.role, t.text) for t in read_dialogue(DIALOGUES / f"{name}.csv"))
        synth = synthesize_session(turns, args.out / "long_session.mp3", seed=args.seed)
        long_row = {"session": "long (all two-voice dialogues)", **run_one(synth.path, synth.turns, options)}

    two = [r for r in rows if r["ref_speakers"] == 2]
    summary = {
        "sessions": len(rows),
        "two_voice": _pooled(two),
        "three_voice": _pooled([r for r in rows if r["ref_speakers"] == 3]),
        "all": _pooled(rows),
        "long_rtf_wall": long_row["rtf_wall"] if long_row else None,
        "long_cpu_s_per_audio_s": round(long_row["cpu_s"] / long_row["duration_s"], 4) if long_row else None,
        "cpu_count": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "options": options.to_dict(),
        "targets": TARGETS,
    }
    (args.out / "results.json").write_text(json.dumps({"summary": summary, "sessions": rows, "long": long_row},
                                                      indent=2) + "\n")  # fmt: skip
    print("| session | file | dur s | spk ref/found | WER | attribution | therapist | conf | RTF (wall) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows + ([long_row] if long_row else []):
        print(f"| {r['session']} | {r['file']} | {r['duration_s']} | {r['ref_speakers']}/{r['found_speakers']} | "
              f"{r['wer']:.3f} | {r['attribution']:.3f} | {'yes' if r['therapist_correct'] else 'NO'} | "
              f"{r['role_confidence']:.3f} | {r['rtf_wall']:.1f}x |")  # fmt: skip
    print()
    print(json.dumps(summary, indent=1))
    t = summary["two_voice"]
    ok = (t["wer_pooled"] <= TARGETS["wer"] and summary["all"]["attribution_pooled"] >= TARGETS["attribution"]
          and summary["all"]["therapist_sessions"] >= TARGETS["therapist_sessions"])  # fmt: skip
    return 0 if ok else 1


def _pooled(rows: list[dict]) -> dict:
    """Word-weighted WER and attribution, share of sessions with the right therapist / speaker count."""
    if not rows:
        return {}
    words = sum(r["ref_words"] for r in rows)
    return {
        "sessions": len(rows),
        "wer_pooled": round(sum(r["wer"] * r["ref_words"] for r in rows) / words, 4),
        "wer_max": max(r["wer"] for r in rows),
        "attribution_pooled": round(sum(r["attribution"] * r["ref_words"] for r in rows) / words, 4),
        "attribution_min": min(r["attribution"] for r in rows),
        "therapist_sessions": round(sum(r["therapist_correct"] for r in rows) / len(rows), 4),
        "speaker_count_right": round(sum(r["ref_speakers"] == r["found_speakers"] for r in rows) / len(rows), 4),
    }


if __name__ == "__main__":
    raise SystemExit(main())
