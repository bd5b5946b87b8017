"""Splits by whole session (transcript), seeded and committed as id lists, never as data."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from tagger.errors import InputError

SPLIT_NAMES = ("train", "calib", "dev")


@dataclass(frozen=True)
class Split:
    seed: int
    train: tuple[str, ...]
    calib: tuple[str, ...]
    dev: tuple[str, ...]
    reserve: tuple[str, ...] = ()  # written and checked, not yet in any split (no model has used them)

    def of(self, name: str) -> tuple[str, ...]:
        return {"train": self.train, "calib": self.calib, "dev": self.dev}[name]

    def to_json(self) -> str:
        d = {"seed": self.seed, "train": list(self.train), "calib": list(self.calib), "dev": list(self.dev)}
        if self.reserve:
            d["reserve"] = list(self.reserve)
        return json.dumps(d, indent=1) + "\n"


def make_split(
    ids: list[str], seed: int, calib: float = 0.1, dev: float = 0.2, strata: dict[str, str] | None = None
) -> Split:
    """Shuffle ids with ``seed`` (within each stratum) and cut off calib and dev fractions."""
    rng = random.Random(seed)
    groups: dict[str, list[str]] = {}
    for i in sorted(ids, key=_natural):
        groups.setdefault((strata or {}).get(i, ""), []).append(i)
    out: dict[str, list[str]] = {n: [] for n in SPLIT_NAMES}
    for key in sorted(groups):
        g = groups[key]
        rng.shuffle(g)
        n_dev = round(len(g) * dev)
        n_cal = round(len(g) * calib)
        out["dev"] += g[:n_dev]
        out["calib"] += g[n_dev : n_dev + n_cal]
        out["train"] += g[n_dev + n_cal :]
    return Split(seed, *(tuple(sorted(out[n], key=_natural)) for n in SPLIT_NAMES))


def load_split(path: Path) -> Split:
    d = json.loads(path.read_text(encoding="utf-8"))
    return Split(d["seed"], tuple(d["train"]), tuple(d["calib"]), tuple(d["dev"]), tuple(d.get("reserve", ())))


def check_split(split: Split, ids: set[str], where: str) -> None:
    parts = (split.train, split.calib, split.dev, split.reserve)
    listed = set().union(*parts)
    if len(listed) != sum(map(len, parts)):
        raise InputError(f"{where}: a session id is listed in more than one split")
    unknown = sorted(ids - listed, key=_natural)
    if unknown:
        raise InputError(
            f"{where}: sessions {', '.join(unknown[:5])} are in the data but in no split; regenerate the split"
        )


def _natural(s: str) -> tuple:
    return (len(s), s) if s.isdigit() else (0, s)
