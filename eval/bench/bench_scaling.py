"""Scaling: time and peak memory as the input doubles, one ``tagger`` process per size.

    python eval/bench/bench_scaling.py [--utterances 1000 2000 4000 8000 16000] [--minutes 5 10 20 40]
                                       [--work runs/bench] [--json OUT]

- transcripts: ``tagger tag`` on archives of 1k ... 16k utterances (``inputs.transcript_archive``);
- audio: ``tagger run --note md --device cpu`` on recordings of 5 ... 40 minutes (the first N
  minutes of one generated session).

Per size: wall time, rate (utt/s or RTF), peak RSS, and the ratio of each to the previous size.
"Linear" is judged on the marginal cost, which leaves out the fixed start-up (imports, model
loads): the extra time per extra utterance (or audio minute) between consecutive sizes (for the
smallest transcript size, against a 20-utterance run). Time is linear when that marginal cost
varies by less than 20% across the series. Memory of the audio runs is also shown minus the
decoded recording itself (float32 mono, 3.66 MiB per minute), which should stay flat.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_end_to_end import AUDIO_MIB_PER_MINUTE, fixed_cost, run_audio, run_tag, warm_up  # noqa: E402
from machine import ROOT, machine_info, machine_markdown, ratio, run_measured, table  # noqa: E402

LINEAR_TOLERANCE = 0.20


def transcripts(sizes: list[int], work: Path, fixed: dict | None = None) -> dict:
    """``fixed``: a ``fixed_cost`` result already measured in this run."""
    from inputs import transcript_archive

    fixed = fixed or fixed_cost(work)
    rows, prev = [], fixed
    for n in sizes:
        a = transcript_archive(n, work)
        r = run_tag(a.path, work)
        r["distinct_texts"] = a.distinct_texts
        r["words_per_utt"] = a.words_per_utterance
        r["marginal_ms_per_utt"] = round(1000 * (r["wall_s"] - prev["wall_s"]) / (n - prev["utterances"]), 3)
        rows.append(r)
        prev = r
    per = [r["marginal_ms_per_utt"] for r in rows]
    return {
        "fixed_cost": fixed,
        "rows": rows,
        "linear": _spread(per) < LINEAR_TOLERANCE,
        "spread": _spread(per),
        "marginal_points": len(per),
    }


def audio(minutes: list[float], work: Path, extra: list[dict] | None = None) -> dict:
    """``extra``: rows already measured the same way (the end-to-end run), added to the series;
    a size they cover is not run again."""
    from inputs import session_audio

    extra = list(extra or [])
    have = {round(r["audio_s"] / 60, 1) for r in extra}
    rows = [run_audio(session_audio(m, work).path, work) for m in minutes if round(m, 1) not in have] + extra
    rows.sort(key=lambda r: r["audio_s"])
    for prev, r in zip(rows, rows[1:], strict=False):
        r["marginal_s_per_min"] = round((r["wall_s"] - prev["wall_s"]) / ((r["audio_s"] - prev["audio_s"]) / 60), 2)
    per = [r["marginal_s_per_min"] for r in rows[1:]]
    beyond = [r["rss_beyond_audio_mib"] for r in rows]
    return {
        "rows": rows,
        "linear": _spread(per) < LINEAR_TOLERANCE,
        "spread": _spread(per),
        "marginal_points": len(per),
        "rss_beyond_audio_growth_mib": beyond[-1] - beyond[0] if beyond else None,
        "rss_growth_mib_per_min": _slope([r["audio_s"] / 60 for r in rows], [r["peak_rss_mib"] for r in rows]),
    }


STAGES = ("decode", "features", "vad", "diarize")


def stage_memory(minutes: tuple[float, float], work: Path) -> dict:
    """Peak RSS of each audio step alone (``memprobe.py``) at two lengths: where memory grows."""
    from inputs import session_audio

    probe = str(Path(__file__).resolve().parent / "memprobe.py")
    rows = []
    for stage in STAGES:
        peaks = [
            run_measured([sys.executable, probe, stage, str(session_audio(m, work).path)]).peak_rss_mib for m in minutes
        ]
        rows.append(
            {
                "stage": stage,
                "peak_rss_mib": [round(p) for p in peaks],
                "mib_per_min": round((peaks[1] - peaks[0]) / (minutes[1] - minutes[0]), 1),
            }
        )
    return {"minutes": list(minutes), "rows": rows}


def stage_memory_markdown(r: dict) -> str:
    a, b = r["minutes"]
    what = {
        "decode": "decode to 16 kHz float32 (PyAV)",
        "features": "decode, then faster-whisper log-Mel features of the whole file (its sequential mode)",
        "vad": "decode, then faster-whisper Silero VAD over the whole file",
        "diarize": "decode, then our voice diarization (synthetic word grid, one word per 0.4 s)",
    }
    rows = [[what[x["stage"]], x["peak_rss_mib"][0], x["peak_rss_mib"][1], x["mib_per_min"]] for x in r["rows"]]
    return (
        f"Each step alone in its own process (`eval/bench/memprobe.py`), peak RSS at {a:g} and {b:g} minutes. "
        "The faster-whisper rows run it on the whole file, which `tagger.audio.asr` avoids by feeding it "
        "windows of about 5 minutes cut in pauses; they show what those windows are for.\n\n"
        + table(["step", f"{a:g} min MiB", f"{b:g} min MiB", "MiB per audio minute"], rows)
    )


def _verdict(r: dict) -> str:
    if r["marginal_points"] < 2:
        return "too few sizes to judge"
    return "linear" if r["linear"] else "**not linear**"


def _spread(xs: list[float]) -> float:
    """(max - min) / mean: how far a per-unit cost moves across sizes."""
    if len(xs) < 2:
        return 0.0
    mean = sum(xs) / len(xs)
    return round((max(xs) - min(xs)) / mean, 3) if mean > 0 else 0.0


def _slope(x: list[float], y: list[float]) -> float | None:
    if len(x) < 2:
        return None
    mx, my = sum(x) / len(x), sum(y) / len(y)
    den = sum((a - mx) ** 2 for a in x)
    return round(sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / den, 2) if den else None


def transcripts_markdown(t: dict) -> str:
    rows, prev = [], None
    for r in t["rows"]:
        rows.append(
            [
                f"{r['utterances']:,}",
                f"{r['distinct_texts']:,}",
                f"{r['words_per_utt']:.1f}",
                f"{r['wall_s']:.1f}",
                ratio(r["wall_s"], prev and prev["wall_s"]),
                f"{r['utt_per_s']:.0f}",
                f"{r['marginal_ms_per_utt']:.2f}",
                r["peak_rss_mib"],
                ratio(r["peak_rss_mib"], prev and prev["peak_rss_mib"]),
            ]
        )
        prev = r
    f = t["fixed_cost"]
    verdict = _verdict(t)
    return (
        table(
            [
                "utterances",
                "distinct texts",
                "words/utt",
                "wall s",
                "x prev",
                "utt/s",
                "marginal ms/utt",
                "peak RSS MiB",
                "x prev",
            ],
            rows,
        )
        + f"\n\nStart-up (a {f['utterances']}-utterance run): {f['wall_s']:.1f} s, {f['peak_rss_mib']} MiB. "
        f"Marginal ms/utt = extra time per extra utterance against the previous row (the first row: "
        f"against the start-up run); it varies by {t['spread']:.0%} across sizes: {verdict} in time "
        f"(threshold {LINEAR_TOLERANCE:.0%})."
    )


def audio_markdown(a: dict) -> str:
    rows, prev = [], None
    for r in a["rows"]:
        rows.append(
            [
                f"{r['audio_s'] / 60:.3g}",
                f"{r['wall_s']:.0f}",
                ratio(r["wall_s"], prev and prev["wall_s"]),
                f"{r['rtf']:.1f}x",
                f"{r['marginal_s_per_min']:.2f}" if "marginal_s_per_min" in r else "–",
                r["peak_rss_mib"],
                ratio(r["peak_rss_mib"], prev and prev["peak_rss_mib"]),
                r["audio_mib"],
                r["rss_beyond_audio_mib"],
            ]
        )
        prev = r
    verdict = _verdict(a)
    return (
        table(
            [
                "audio min",
                "wall s",
                "x prev",
                "RTF",
                "marginal s per audio min",
                "peak RSS MiB",
                "x prev",
                "decoded audio MiB",
                "RSS minus audio MiB",
            ],
            rows,
        )
        + f"\n\nMarginal wall time per audio minute (against the previous row) varies by {a['spread']:.0%}: "
        f"{verdict} in time (threshold {LINEAR_TOLERANCE:.0%}). Peak RSS grows by {a['rss_growth_mib_per_min']} "
        f"MiB per audio minute (least-squares slope; the decoded audio alone is {AUDIO_MIB_PER_MINUTE:.2f} MiB/min); "
        f"RSS minus audio moves by {a['rss_beyond_audio_growth_mib']:+d} MiB from the shortest to the longest."
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--utterances", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000])
    ap.add_argument("--minutes", type=float, nargs="+", default=[5, 10, 20, 40])
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    info = machine_info()
    warm_up(args.work)
    t = transcripts(args.utterances, args.work)
    a = audio(args.minutes, args.work)
    print(machine_markdown(info) + "\n\n" + transcripts_markdown(t) + "\n\n" + audio_markdown(a))
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "transcripts": t, "audio": a}, indent=1) + "\n")


if __name__ == "__main__":
    main()
