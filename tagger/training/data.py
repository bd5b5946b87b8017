"""Training corpora: AnnoMI and the authored corpus (or a researcher's files in the same formats).

``load_corpus`` returns labelled sessions per split; ``to_dataset`` turns them into a Hugging
Face ``datasets.DatasetDict`` (one row per utterance) for use outside tagger.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from tagger.errors import InputError
from tagger.io.labeled import LabeledSession, default_annomi_dir, read_labeled
from tagger.training.splits import SPLIT_NAMES, check_split, load_split, make_split

REPO = Path(__file__).resolve().parents[2]
AUTHORED_DIR = REPO / "training" / "data" / "authored"
SPLITS_DIR = REPO / "training" / "splits"


@dataclass(frozen=True)
class Corpus:
    name: str
    sessions: dict[str, tuple[LabeledSession, ...]]  # split name -> sessions
    files: dict[str, str]  # path -> sha256

    def all(self) -> tuple[LabeledSession, ...]:
        return tuple(s for n in SPLIT_NAMES for s in self.sessions[n])


def file_sha256(paths: list[Path]) -> dict[str, str]:
    out = {}
    for p in paths:
        out[p.name if p.parent == AUTHORED_DIR else str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _apply_split(
    name: str, sessions: list[LabeledSession], split_file: Path | None, seed: int, strata: dict[str, str] | None = None
) -> dict[str, tuple[LabeledSession, ...]]:
    ids = {s.session_id for s in sessions}
    if split_file is not None and split_file.is_file():
        split = load_split(split_file)
        check_split(split, ids, str(split_file))
    else:
        split = make_split(sorted(ids), seed, strata=strata)
        if split_file is not None:
            split_file.parent.mkdir(parents=True, exist_ok=True)
            split_file.write_text(split.to_json(), encoding="utf-8")
    by_id = {s.session_id: s for s in sessions}
    return {n: tuple(by_id[i] for i in split.of(n) if i in by_id) for n in SPLIT_NAMES}


def load_annomi(
    path: Path | None = None, split_file: Path | None = SPLITS_DIR / "annomi.json", seed: int = 13
) -> Corpus:
    p = path or default_annomi_dir() / "AnnoMI-full.csv"
    if p.is_dir():
        p = p / "AnnoMI-full.csv"
    if not p.is_file():
        raise InputError(f"AnnoMI not found at {p}; pass --annomi PATH (AnnoMI-full.csv) or set TAGGER_ANNOMI_DIR")
    sessions = read_labeled(p)
    strata = {s.session_id: dict(s.session.metadata).get("mi_quality", "") for s in sessions}
    return Corpus("annomi", _apply_split("annomi", sessions, split_file, seed, strata), file_sha256([p]))


def load_authored(
    root: Path = AUTHORED_DIR, split_file: Path | None = SPLITS_DIR / "authored.json", seed: int = 13
) -> Corpus:
    files = sorted(f for f in root.glob("*.csv") if f.name != "sessions.csv")
    if not files:
        raise InputError(f"no authored sessions (*.csv) in {root}")
    by_file = {f: read_labeled(f, fmt="codes") for f in files}
    split = _apply_split("authored", [ls for v in by_file.values() for ls in v], split_file, seed)
    used = {ls.session_id for part in split.values() for ls in part}  # reserved sessions are not the model's data
    kept = [f for f, v in by_file.items() if any(ls.session_id in used for ls in v)]
    return Corpus("authored", split, file_sha256(kept))


def to_dataset(corpus: Corpus):  # -> datasets.DatasetDict
    """One row per utterance with its gold labels and the labels its source observes."""
    import datasets

    def rows(sessions: tuple[LabeledSession, ...]) -> dict[str, list]:
        cols: dict[str, list] = {
            k: []
            for k in (
                "session_id",
                "utterance_id",
                "speaker",
                "text",
                "codes",
                "main_behaviour",
                "client_talk",
                "risk_indicator",
                "observed",
            )
        }
        for ls in sessions:
            for u in ls.session.utterances:
                g = ls.labels.get(u.utterance_id)
                cols["session_id"].append(u.session_id)
                cols["utterance_id"].append(u.utterance_id)
                cols["speaker"].append(u.speaker)
                cols["text"].append(u.text)
                cols["codes"].append(sorted(g.codes) if g else [])
                cols["main_behaviour"].append(g.main_behaviour if g else None)
                cols["client_talk"].append(g.client_talk if g else None)
                cols["risk_indicator"].append(g.risk_indicator if g else None)
                cols["observed"].append(sorted(g.observed) if g else [])
        return cols

    return datasets.DatasetDict({n: datasets.Dataset.from_dict(rows(corpus.sessions[n])) for n in SPLIT_NAMES})
