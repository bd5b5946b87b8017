"""Report figures, drawn with matplotlib's object API (no pyplot, no global backend change).

Each function writes one PNG and returns its path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from tagger.evaluation.calibration import Calibration
from tagger.evaluation.metrics import LabelScore
from tagger.evaluation.miti import SessionMiti
from tagger.evaluation.results import ClassTask, SystemResult

DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def _scored(s: LabelScore) -> bool:
    return s.f1 is not None


def plot_code_f1(systems: Sequence[SystemResult], path: Path) -> Path | None:
    """Horizontal bars of per-code F1 (one bar per system) with bootstrap CI whiskers."""
    codes: list[str] = []
    for r in systems:
        for s in r.therapist_codes + r.client_codes:
            if _scored(s) and s.label not in codes:
                codes.append(s.label)
    if not codes:
        return None
    n_sys = len(systems)
    height = 0.8 / n_sys
    fig = Figure(figsize=(8, 1.2 + 0.28 * len(codes) * max(1, n_sys * 0.7)))
    ax = fig.subplots()
    y = np.arange(len(codes))
    for k, r in enumerate(systems):
        by = {s.label: s for s in r.therapist_codes + r.client_codes}
        vals = np.array([by[c].f1 if c in by and by[c].f1 is not None else np.nan for c in codes])
        lo = np.array([by[c].f1_low if c in by and by[c].f1_low is not None else np.nan for c in codes])
        hi = np.array([by[c].f1_high if c in by and by[c].f1_high is not None else np.nan for c in codes])
        pos = y - 0.4 + height * (k + 0.5)
        ax.barh(pos, np.nan_to_num(vals), height=height, label=r.name)
        for yy, v, h in zip(pos, vals, hi, strict=True):
            if not np.isnan(v):  # the value just right of the bar or its whisker
                ax.text((v if np.isnan(h) else max(v, h)) + 0.01, yy, f"{v:.2f}", va="center", fontsize=7)
        has_ci = ~np.isnan(lo) & ~np.isnan(vals)
        if has_ci.any():
            err = np.vstack([vals - lo, hi - vals])[:, has_ci]
            ax.errorbar(
                vals[has_ci], pos[has_ci], xerr=np.clip(err, 0, None), fmt="none", ecolor="black", capsize=2, lw=0.8
            )
    support = {s.label: s.support for s in systems[0].therapist_codes + systems[0].client_codes}
    ax.set_yticks(y, [f"{c} (n={support.get(c, 0)})" for c in codes])
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("F1 (whiskers: bootstrap CI over sessions)")
    ax.set_title("Per-code F1")
    ax.grid(axis="x", alpha=0.3)
    if n_sys > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    return _save(fig, path)


def plot_confusion(task: ClassTask, title: str, path: Path) -> Path:
    """Confusion matrix: colour is the row share (recall), text is the count."""
    cm = np.array(task.confusion, dtype=float)
    rows = cm.sum(1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    fig = Figure(figsize=(1.6 + 1.1 * len(task.labels), 1.2 + 1.0 * len(task.labels)))
    ax = fig.subplots()
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, f"{int(cm[i, j])}", ha="center", va="center", color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(len(task.labels)), task.labels, rotation=30, ha="right")
    ax.set_yticks(range(len(task.labels)), task.labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of gold row")
    return _save(fig, path)


def plot_reliability(cals: Sequence[Calibration], title: str, path: Path) -> Path | None:
    """Reliability diagram (observed frequency vs mean probability per bin) and bin counts."""
    cals = [c for c in cals if c.n]
    if not cals:
        return None
    fig = Figure(figsize=(6, 6.5), layout="constrained")
    ax, hist = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfect calibration")
    width = 1 / len(cals[0].bins) / len(cals)
    for k, c in enumerate(cals):
        xs = [b.confidence for b in c.bins if b.count]
        ys = [b.frequency for b in c.bins if b.count]
        line = ax.plot(xs, ys, marker="o", label=f"{c.name} (ECE {c.ece or 0:.3f}, n={c.n})")[0]
        lefts = [b.lower + k * width for b in c.bins if b.count]
        hist.bar(
            lefts, [b.count for b in c.bins if b.count], width=width, align="edge", color=line.get_color(), alpha=0.7
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_ylabel("observed frequency of the code")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    ax.grid(alpha=0.3)
    hist.set_yscale("log")
    hist.set_xlabel("predicted probability (equal-width bins)")
    hist.set_ylabel("events per bin")
    hist.grid(alpha=0.3)
    return _save(fig, path)


def plot_miti(sessions: Sequence[SessionMiti], scores: Sequence[str], title: str, path: Path) -> Path | None:
    """Predicted vs gold session MITI scores, one panel per score."""
    scores = [s for s in scores if any(m.gold.get(s) is not None and m.pred.get(s) is not None for m in sessions)]
    if not scores:
        return None
    fig = Figure(figsize=(3.2 * len(scores), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(scores)))
    for ax, name in zip(axes, scores, strict=True):
        pts = np.array(
            [
                (m.gold[name], m.pred[name])
                for m in sessions
                if m.gold.get(name) is not None and m.pred.get(name) is not None
            ]
        )
        ax.scatter(pts[:, 0], pts[:, 1], s=14, alpha=0.7)
        lo, hi = float(pts.min()), float(pts.max())
        pad = 0.05 * (hi - lo or 1)
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], ls="--", color="grey", lw=1)
        ax.set_title(name)
        ax.set_xlabel("gold")
        ax.set_ylabel("predicted")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return _save(fig, path)
