"""ASR real-time factor: our audio stage vs plain faster-whisper on the same recording, same model.

    python eval/bench/bench_asr.py [--minutes 10] [--work runs/bench] [--json OUT]

Systems, all on the CPU with the ``tiny.en`` model directory the project resolves (the bundled
one) and int8, run one after the other in this process on the same file:

- plain faster-whisper, sequential: ``WhisperModel(dir, device="cpu", compute_type="int8",
  cpu_threads=T).transcribe(path)`` consumed fully (its defaults: beam 5, no VAD, no word
  timestamps, no batching); T is the thread count our code uses, so threads are not the difference;
- our audio stage: ``tagger.audio.transcribe.transcribe(path, TranscribeOptions(device="cpu"))``,
  i.e. decode + VAD + faster-whisper with word timestamps + diarization + roles; its ASR step alone
  (decode + model load + recognition) comes from the stage timings it reports;
- our ASR step with ``batched=True`` (faster-whisper's batched pipeline; off by default).

Every time includes loading the model(s), as a one-file command would. RTF = audio seconds per
wall-clock second (higher is faster).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from machine import ROOT, machine_info, machine_markdown, table  # noqa: E402


def run(path: Path) -> dict:
    from faster_whisper import WhisperModel

    from tagger.audio.asr import default_compute_type, resolve_model, transcribe_words
    from tagger.audio.decode import decode_audio
    from tagger.audio.options import TranscribeOptions
    from tagger.audio.transcribe import transcribe

    options = TranscribeOptions(device="cpu")
    model_dir = resolve_model(options.asr_model)
    compute_type = options.compute_type or default_compute_type("cpu")
    threads = options.cpu_threads or min(os.cpu_count() or 1, 8)  # as tagger.audio.asr.load_model picks them
    rows = []

    t0 = time.perf_counter()
    plain = WhisperModel(model_dir.path, device="cpu", compute_type="int8", cpu_threads=threads)
    load = time.perf_counter() - t0
    segments, info = plain.transcribe(str(path))
    words = sum(len(s.text.split()) for s in segments)  # consuming the generator runs the decoding
    wall = time.perf_counter() - t0
    duration = float(info.duration)
    del plain
    rows.append(
        {
            "system": "plain faster-whisper, sequential (no VAD, no word timestamps)",
            "wall_s": wall,
            "model_load_s": load,
            "words": words,
        }
    )

    t0 = time.perf_counter()
    session, tinfo = transcribe(path, options)
    wall = time.perf_counter() - t0
    timings = dict(tinfo.timings)
    n_words = sum(len(u.text.split()) for u in session.utterances)
    rows.append(
        {
            "system": "ours: audio stage (decode + VAD + ASR + diarization + roles)",
            "wall_s": wall,
            "words": n_words,
            "stages": timings,
        }
    )
    rows.append(
        {
            "system": "ours: ASR step alone (decode + VAD + ASR with word timestamps)",
            "wall_s": timings["decode"] + timings["asr"],
            "words": n_words,
        }
    )

    batched = TranscribeOptions(device="cpu", batched=True)
    t0 = time.perf_counter()
    res = transcribe_words(decode_audio(path).mono(), batched)
    wall = time.perf_counter() - t0
    rows.append(
        {"system": f"ours: ASR step, batched (batch {batched.batch_size})", "wall_s": wall, "words": len(res.words)}
    )

    base = rows[0]["wall_s"]
    for r in rows:
        r["rtf"] = round(duration / r["wall_s"], 2)
        r["x_plain"] = round(base / r["wall_s"], 2)
        r["wall_s"] = round(r["wall_s"], 2)
    return {
        "file": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path),
        "audio_s": round(duration, 1),
        "model": model_dir.name,
        "model_path": model_dir.path,
        "compute_type": compute_type,
        "cpu_threads": threads,
        "beam_size": options.beam_size,
        "rows": rows,
    }


def markdown(r: dict) -> str:
    head = (
        f"File `{r['file']}` ({r['audio_s'] / 60:.1f} min of two-voice speech), model {r['model']} "
        f"(`{r['model_path']}`), CPU, {r['compute_type']}, {r['cpu_threads']} threads, beam {r['beam_size']}. "
        "RTF = audio seconds per wall second, model loading included.\n\n"
    )
    rows = [[x["system"], x["wall_s"], f"{x['rtf']:.1f}x", f"{x['x_plain']:.2f}", x["words"]] for x in r["rows"]]
    stages = r["rows"][1].get("stages", {})
    tail = "\n\nOur audio stage by step (s): " + ", ".join(f"{k} {v:.1f}" for k, v in stages.items()) if stages else ""
    return head + table(["system", "wall s", "RTF", "speed vs plain", "words out"], rows) + tail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the generated recording")
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "bench")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from inputs import session_audio

    rec = session_audio(args.minutes, args.work)
    r = run(rec.path)
    print(machine_markdown(machine_info()) + "\n\n" + markdown(r))
    if args.json:
        args.json.write_text(json.dumps({"machine": machine_info(), "asr": r}, indent=1) + "\n")


if __name__ == "__main__":
    main()
