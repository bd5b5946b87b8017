"""Every performance benchmark in one run, one Markdown report (issue #9).

    python eval/bench/run_all.py [--quick] [--work runs/bench] [--results]

In order: classifier throughput (``bench_classifier``: tagger's engine vs a batched fixed-padding
baseline vs the naive Hugging Face pipeline; CPU, and CUDA when present), ASR real-time factor
(``bench_asr``: our audio stage vs plain faster-whisper on the same file), end to end
(``bench_end_to_end``: a one-hour recording to a draft note with ``tagger run``, a 10,000-utterance
archive through ``tagger tag``) and scaling (``bench_scaling``: 1k ... 16k utterances, 5 ... 40
minutes of audio). Generated recordings are cached under ``--work`` (default ``runs/bench``), so a
rerun does not synthesize them again; the report also goes to ``WORK/results[-quick].json``.

``--quick`` uses small sizes (a couple of minutes; for development and a smoke test).
``--results`` writes the report into ``eval/bench/RESULTS.md``, replacing the section an earlier
run wrote there and keeping everything else in the file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_asr  # noqa: E402
import bench_classifier  # noqa: E402
import bench_end_to_end as e2e  # noqa: E402
import bench_scaling  # noqa: E402
from inputs import session_audio  # noqa: E402
from machine import (  # noqa: E402
    ROOT,
    ContentionMonitor,
    busy_processes,
    cpu_snapshot,
    gpu_name,
    machine_info,
    machine_markdown,
    table,
)

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"


@dataclass(frozen=True)
class Sizes:
    classifier_utterances: int
    naive_utterances: int
    asr_minutes: float
    e2e_minutes: float
    archive_utterances: int
    scaling_utterances: tuple[int, ...]
    scaling_minutes: tuple[float, ...]
    stage_memory_minutes: tuple[float, float]


FULL = Sizes(2000, 200, 10, 60, 10000, (1000, 2000, 4000, 8000, 16000), (5, 10, 20, 40), (5, 20))
QUICK = Sizes(150, 10, 1, 1, 300, (200, 400), (0.5, 1), (0.5, 1))


@dataclass
class Report:
    monitor: ContentionMonitor
    parts: list[str] = field(default_factory=list)
    data: dict = field(default_factory=dict)

    def section(self, title: str, key: str, fn, render) -> None:
        """Run one benchmark; a failure becomes a line in the report, not the end of the run."""
        print(f"[run_all] {title} ...", file=sys.stderr, flush=True)
        t0, w0, c0 = time.perf_counter(), time.time(), cpu_snapshot()
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            self.data[key] = {"error": f"{type(exc).__name__}: {exc}"}
            self.parts.append(f"### {title}\n\n**Failed**: `{type(exc).__name__}: {str(exc)[:300]}`")
            return
        self.data[key] = result
        cond = self.monitor.window(w0, time.time())
        c1, wall = cpu_snapshot(), time.perf_counter() - t0
        other = max(0.0, (c1[0] - c0[0]) - (c1[1] - c0[1]))  # machine busy time not spent by this run
        cond["other_cpu_share"] = round(other / (wall * len(os.sched_getaffinity(0))), 3)
        result.setdefault("conditions", cond)
        self.parts.append(f"### {title}\n\n{render(result)}\n\n{conditions_line(result['conditions'])}")
        print(f"[run_all] {title}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)


def conditions_line(c: dict) -> str:
    if c.get("note"):
        return f"_Conditions: {c['note']}_"
    if not c.get("samples"):
        return f"_Conditions: other processes used {c.get('other_cpu_share', 0):.0%} of the machine's CPU time._"
    busy, other = c["busy_share"], c.get("other_cpu_share", 0.0)
    who = (
        "no training or batch job running"
        if busy == 0
        else f"**a training or batch job running in {busy:.0%} of samples**"
    )
    share = f"other processes used {other:.0%} of the machine's CPU time"
    if other > 0.10:
        share = f"**{share}**"
    return f"_Conditions: {who}; {share}; 1-minute load average up to {c['max_load']}._"


def classifier_markdown(r: dict) -> str:
    rows = [[x["system"], f"{x['utt_per_s']:.1f}", f"{x['x_naive']:.1f}"] for x in r["systems"]]
    return (
        f"Device {r['device']}, torch {r['torch_threads']} threads; {r['utterances']} utterances "
        f"(mean {r['mean_words']} words), the naive baseline timed on an even sample of {r['naive_utterances']} "
        f"(mean {r['naive_mean_words']} words); "
        f"model `{Path(r['model']).name}`. Best of two timed passes after a warm-up (naive: one).\n\n"
        + table(["system", "utt/s", "x naive"], rows)
    )


def targets(data: dict) -> list[list[str]]:
    """(target, measured, met) for the targets the issue names."""
    out = []
    clf = data.get("classifier_cpu", {})
    if "systems" in clf:
        engine = clf["systems"][0]  # the default CPU backend (ONNX int8)
        out.append(
            [
                "classifier >= 8x naive HF pipeline (CPU)",
                f"{engine['x_naive']:.1f}x ({engine['system']})",
                _yes(engine["x_naive"] >= 8),
            ]
        )
        out.append(
            ["classifier >= 500 utt/s (CPU)", f"{engine['utt_per_s']:.0f} utt/s", _yes(engine["utt_per_s"] >= 500)]
        )
    arch = data.get("archive", {})
    if "run" in arch:
        out.append(
            [
                "(same, through `tagger tag`, steady state / whole process)",
                f"{arch['steady_utt_per_s']:.0f} / {arch['run']['utt_per_s']:.0f} utt/s",
                _yes(arch["steady_utt_per_s"] >= 500),
            ]
        )
    audio = data.get("e2e_audio", {})
    if "rtf" in audio:
        out.append(
            [
                f"audio end to end >= 10x real time (tiny.en, {audio['audio_s'] / 60:.0f} min, CPU)",
                f"{audio['rtf']:.1f}x",
                _yes(audio["rtf"] >= 10),
            ]
        )
    sa = data.get("scaling_audio", {})
    if "rows" in sa and len(sa["rows"]) > 1:
        beyond = [r["rss_beyond_audio_mib"] for r in sa["rows"]]
        flat = (max(beyond) - min(beyond)) <= bench_scaling.LINEAR_TOLERANCE * min(beyond)
        out.append(
            [
                "memory flat in session length beyond the audio",
                f"peak RSS minus decoded audio {min(beyond)}-{max(beyond)} MiB over "
                f"{sa['rows'][0]['audio_s'] / 60:g}-{sa['rows'][-1]['audio_s'] / 60:g} min "
                f"({sa['rss_growth_mib_per_min']:+} MiB per audio minute; the audio alone: +3.66)",
                _yes(flat),
            ]
        )
    for key, what in (("scaling_transcripts", "transcripts"), ("scaling_audio", "recordings")):
        sc = data.get(key, {})
        if "rows" in sc and sc.get("marginal_points", 0) >= 2:
            out.append(
                [
                    f"time linear in input length ({what})",
                    f"marginal cost per unit varies by {sc['spread']:.0%}",
                    _yes(sc["linear"]),
                ]
            )
    return out


def _yes(ok: bool) -> str:
    return "**yes**" if ok else "**no**"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes: a smoke test of every benchmark")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench", help="cache and output folder")
    ap.add_argument("--results", action="store_true", help=f"write the report into {RESULTS.relative_to(ROOT)}")
    ap.add_argument(
        "--reuse-hour",
        type=Path,
        metavar="RESULTS_JSON",
        help="take the one-hour end-to-end figures from an earlier run's results.json instead of running it again",
    )
    args = ap.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    command = (
        "python eval/bench/run_all.py" + (" --quick" if args.quick else "") + (" --results" if args.results else "")
    )
    if args.work.resolve() != (ROOT / "runs" / "bench").resolve():
        command += f" --work {args.work}"
    if args.reuse_hour:
        command += f" --reuse-hour {args.reuse_hour}"
    t_start, c_start = time.perf_counter(), cpu_snapshot()
    info = machine_info()
    rep = Report(ContentionMonitor().start(), data={"command": command, "machine": info, "sizes": sizes.__dict__})

    # Inputs first (cached), so synthesis never overlaps a timed run.
    t0 = time.perf_counter()
    minutes = sorted({sizes.asr_minutes, sizes.e2e_minutes, *sizes.scaling_minutes})
    recordings = {m: session_audio(m, work) for m in minutes}
    print(f"[run_all] recordings ready ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    try:
        e2e.warm_up(work)
    except Exception:  # noqa: BLE001 - the sections that need the model report the failure
        traceback.print_exc()

    devices = ["cpu"] + (["cuda"] if gpu_name() else [])
    for dev in devices:
        rep.section(
            f"Classifier throughput ({dev.upper()})",
            f"classifier_{dev}",
            lambda d=dev: bench_classifier.run(sizes.classifier_utterances, sizes.naive_utterances, None, d),
            classifier_markdown,
        )
    rep.section(
        "ASR: our audio stage vs plain faster-whisper (CPU)",
        "asr",
        lambda: bench_asr.run(recordings[sizes.asr_minutes].path),
        bench_asr.markdown,
    )
    hour_minutes = sizes.e2e_minutes
    if args.reuse_hour:
        hour_minutes = round(json.loads(args.reuse_hour.read_text())["e2e_audio"]["audio_s"] / 60, 1)
    rep.section(
        f"End to end: {hour_minutes:g}-minute recording to a draft note (`tagger run`, CPU)",
        "e2e_audio",
        (lambda: reused_hour(args.reuse_hour))
        if args.reuse_hour
        else (lambda: e2e.run_audio(recordings[sizes.e2e_minutes].path, work)),
        e2e.audio_markdown,
    )
    try:  # shared by the archive and the scaling series; each measures it again if this fails
        fixed = e2e.fixed_cost(work)
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        fixed = None
    rep.section(
        f"End to end: {sizes.archive_utterances:,}-utterance transcript archive (`tagger tag`)",
        "archive",
        lambda: e2e.archive_case(sizes.archive_utterances, work, fixed),
        e2e.archive_markdown,
    )
    rep.section(
        "Scaling: transcripts through `tagger tag`",
        "scaling_transcripts",
        lambda: bench_scaling.transcripts(list(sizes.scaling_utterances), work, fixed),
        bench_scaling.transcripts_markdown,
    )
    hour = rep.data.get("e2e_audio", {})
    rep.section(
        "Scaling: recordings through `tagger run` (CPU)",
        "scaling_audio",
        # a reused hour ran under other conditions: it is not part of this run's series
        lambda: bench_scaling.audio(
            list(sizes.scaling_minutes), work, [hour] if "rtf" in hour and "reused_from" not in hour else []
        ),
        bench_scaling.audio_markdown,
    )

    a, b = sizes.stage_memory_minutes
    rep.section(
        "Scaling: where audio memory grows (peak RSS per step)",
        "stage_memory",
        lambda: bench_scaling.stage_memory((a, b), work),
        bench_scaling.stage_memory_markdown,
    )
    rep.monitor.stop()
    rep.data["conditions"] = rep.monitor.window(0, time.time())
    c_end = cpu_snapshot()
    other = max(0.0, (c_end[0] - c_start[0]) - (c_end[1] - c_start[1]))
    rep.data["conditions"]["other_cpu_share"] = round(
        other / ((time.perf_counter() - t_start) * len(os.sched_getaffinity(0))), 3
    )
    rep.data["total_s"] = round(time.perf_counter() - t_start)
    rep.data["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    rep.data["busy_processes_end"] = busy_processes()
    md = render(rep, command, info, args.quick)
    print(md)
    (work / f"results{'-quick' if args.quick else ''}.json").write_text(json.dumps(rep.data, indent=1) + "\n")
    if args.results:
        write_results(md)
        print(f"[run_all] wrote {RESULTS.relative_to(ROOT)}", file=sys.stderr)
    return 1 if any("error" in v for v in rep.data.values() if isinstance(v, dict)) else 0


def reused_hour(path: Path) -> dict:
    """The end-to-end hour of an earlier run, marked as such (it is the most expensive case)."""
    earlier = json.loads(path.read_text())
    hour = dict(earlier["e2e_audio"])
    if "error" in hour:
        raise RuntimeError(f"{path} has no one-hour figures: {hour['error']}")
    cond = hour.get("conditions") or {}
    busy_end = earlier.get("busy_processes_end") or []
    note = cond.get("note") or (
        f"busy share {cond['busy_share']:.0%}, load up to {cond['max_load']}"
        if cond.get("samples")
        else (
            "not sampled in that run; another CPU-heavy process was running by its end" if busy_end else "not sampled"
        )
    )
    hour["conditions"] = {
        "note": f"reused from the run of {earlier['machine']['date_utc']} (`{path}`); conditions then: {note}"
    }
    hour["reused_from"] = str(path)
    return hour


def render(rep: Report, command: str, info: dict, quick: bool) -> str:
    d = rep.data
    contention = ""
    overall = d.get("conditions", {})
    if overall.get("busy_share") or overall.get("other_cpu_share", 0) > 0.10:
        contention = (
            f"\n\n**Contention:** a training or batch job ran in {overall['busy_share']:.0%} of this run's samples "
            f"and other processes used {overall.get('other_cpu_share', 0):.0%} of the machine's CPU time; each "
            "section says its own share. Absolute figures of a contended section are lower than an idle "
            "machine gives; ratios within one section are from the same conditions."
        )
    else:
        contention = (
            f"\n\nOther processes used {overall.get('other_cpu_share', 0):.0%} of the machine's CPU time during "
            "this run (sampled per section below)."
        )
    head = (
        f"## All benchmarks (`run_all.py`{', quick sizes' if quick else ''})\n\n"
        f"```\n{command}\n```\n\n"
        f"{info['date_utc']}, {d['total_s'] / 60:.0f} minutes in all. Machine:\n\n{machine_markdown(info)}\n"
        f"- load average at the end: {' / '.join(str(x) for x in d['load_average_end'])}"
        f"{contention}"
    )
    tgt = targets(d)
    summary = "### Targets (issue #9)\n\n" + (table(["target", "measured", "met"], tgt) if tgt else "(none measured)")
    if quick:
        summary += (
            "\n\n_Quick sizes: a smoke test of every benchmark. Start-up dominates these small inputs, so the "
            "figures and verdicts here are not the issue's measurements; run without `--quick` for those._"
        )
    return "\n\n".join([head, summary, *rep.parts]) + "\n"


def write_results(md: str) -> None:
    """Replace this script's section of RESULTS.md (between markers), or append it."""
    text = RESULTS.read_text() if RESULTS.is_file() else "# Benchmark results\n"
    block = f"{BEGIN}\n{md.rstrip()}\n{END}\n"
    if BEGIN in text and END in text:
        pre, rest = text.split(BEGIN, 1)
        post = rest.split(END, 1)[1].lstrip("\n")
        text = pre + block + ("\n" + post if post else "")
    else:
        text = text.rstrip("\n") + "\n\n" + block
    RESULTS.write_text(text)


if __name__ == "__main__":
    raise SystemExit(main())
