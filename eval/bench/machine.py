"""What the benchmarks ran on, and how a command's wall time and peak memory are measured.

Shared by every benchmark in ``eval/bench``: :func:`machine_info` (CPU, cores, RAM, library
versions, GPU, load, other busy processes), :func:`run_measured` (a subprocess with its own
peak RSS from ``wait4``) and a few Markdown helpers.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Processes that compete for the CPU on the development machine (training, batch benchmarks).
BUSY_PATTERN = "tagger trai[n]|bench_batc[h]"  # brackets: the pattern never matches a shell quoting it


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                flags = Path("/proc/cpuinfo").read_text()
                extra = [f for f in ("avx512_vnni", "avx512f", "avx2") if f" {f}" in flags]
                return f"{name} ({', '.join(extra[:1]) or 'no AVX2'})"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def busy_processes() -> list[str]:
    """Command lines of other processes matching :data:`BUSY_PATTERN` (training, batch benchmarks)."""
    r = subprocess.run(["pgrep", "-af", BUSY_PATTERN], capture_output=True, text=True, check=False)
    me = os.getpid()
    return [ln for ln in r.stdout.splitlines() if ln.strip() and int(ln.split()[0]) != me]


def gpu_name() -> str | None:
    """The CUDA device torch sees, else None."""
    try:
        import torch

        return torch.cuda.get_device_name() if torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a broken CUDA setup means "no GPU" here
        return None


def machine_info() -> dict:
    """Everything a reader needs to compare figures from two runs."""
    import torch

    try:
        import ctranslate2

        ct2_cuda = ctranslate2.get_cuda_device_count()
    except Exception:  # noqa: BLE001
        ct2_cuda = 0
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "cpu": _cpu_model(),
        "cpus_visible": len(os.sched_getaffinity(0)),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "onnxruntime": _version("onnxruntime"),
        "ctranslate2": _version("ctranslate2"),
        "faster_whisper": _version("faster-whisper"),
        "transformers": _version("transformers"),
        "gpu": gpu_name(),
        "ctranslate2_cuda_devices": ct2_cuda,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "busy_processes": busy_processes(),
    }


def machine_markdown(info: dict) -> str:
    gpu = info["gpu"] or "none (CPU only)"
    lines = [
        f"- date: {info['date_utc']}; host `{info['host']}`",
        f"- CPU: {info['cpu']}, {info['cpus_visible']} cores visible; RAM {info['ram_gib']} GiB; {info['os']}",
        f"- GPU: {gpu}; CTranslate2 CUDA devices: {info['ctranslate2_cuda_devices']}",
        f"- python {info['python']}, torch {info['torch']} ({info['torch_threads']} threads), onnxruntime "
        f"{info['onnxruntime']}, ctranslate2 {info['ctranslate2']}, faster-whisper {info['faster_whisper']}, "
        f"transformers {info['transformers']}",
        f"- load average at start (1/5/15 min): {' / '.join(str(x) for x in info['load_average'])}",
    ]
    if info["busy_processes"]:
        lines.append(
            "- **other CPU-heavy processes were running during this run**: "
            + "; ".join(f"`{p.split(maxsplit=1)[1][:80]}`" for p in info["busy_processes"])
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class Measured:
    """One subprocess run: wall seconds, peak resident set size (MiB) and CPU seconds."""

    cmd: tuple[str, ...]
    wall_s: float
    peak_rss_mib: float
    cpu_s: float
    returncode: int
    stderr_tail: str


TIME = Path("/usr/bin/time")


def run_measured(cmd: list[str], *, env: dict | None = None, check: bool = True) -> Measured:
    """Run ``cmd``; wall time, its peak RSS and CPU seconds.

    The peak RSS comes from GNU time (``/usr/bin/time -f %M``), which forks the command from its own
    small process. Reading ``ru_maxrss`` of a child forked straight from this process is wrong:
    Linux carries the high-water mark of the forking process's memory across ``exec``, so every
    command would report at least this (model-laden) process's size.
    """
    if not TIME.is_file():
        raise RuntimeError("GNU time (/usr/bin/time) is needed to measure peak memory; apt-get install time")
    full_env = {**os.environ, **(env or {})}
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.perf_counter()
        r = subprocess.run(
            [str(TIME), "-o", tf.name, "-f", "%M %U %S", *cmd],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=full_env,
            cwd=ROOT,
            check=False,
        )
        wall = time.perf_counter() - t0
        last = [ln for ln in Path(tf.name).read_text().splitlines() if ln.strip()][-1].split()
    tail = r.stderr.decode(errors="replace")[-2000:]
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {r.returncode}:\n{tail}")
    return Measured(tuple(cmd), wall, int(last[0]) / 1024, float(last[1]) + float(last[2]), r.returncode, tail)


def tagger_cmd(*args: str) -> list[str]:
    """``tagger ARGS`` with this interpreter (the venv's console script is not always on PATH)."""
    return [sys.executable, "-m", "tagger.cli", *args]


def table(header: list[str], rows: list[list]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def ratio(a: float | None, b: float | None, digits: int = 2) -> str:
    """``a / b`` formatted, or an en dash when either is missing."""
    if not a or not b:
        return "–"
    return f"{a / b:.{digits}f}"


if __name__ == "__main__":
    print(machine_markdown(machine_info()))


class ContentionMonitor:
    """Samples, every few seconds in a background thread, whether a :data:`BUSY_PATTERN` process
    runs and the 1-minute load average, so each benchmark can say under what conditions it ran."""

    def __init__(self, every_s: float = 5.0) -> None:
        import threading

        self.every_s = every_s
        self.samples: list[tuple[float, bool, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), bool(busy_processes()), os.getloadavg()[0]))
            self._stop.wait(self.every_s)

    def start(self) -> ContentionMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def window(self, t0: float, t1: float) -> dict:
        """Share of samples in ``[t0, t1]`` (``time.time()``) with another CPU-heavy process running."""
        inside = [s for s in self.samples if t0 <= s[0] <= t1]
        if not inside:
            return {"samples": 0, "busy_share": None, "max_load": None}
        return {
            "samples": len(inside),
            "busy_share": round(sum(b for _, b, _ in inside) / len(inside), 2),
            "max_load": round(max(load for _, _, load in inside), 2),
        }


def cpu_snapshot() -> tuple[float, float]:
    """(CPU seconds the whole machine has been busy, CPU seconds of this process and its reaped
    children) now; the difference over a window is what other processes used."""
    vals = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    busy = sum(vals) - vals[3] - vals[4]  # all but idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system + t.children_user + t.children_system
