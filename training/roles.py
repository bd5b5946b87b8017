"""Train the speaker-role model (therapist vs client from what is said).

    python -m training.roles [--annomi PATH] [--authored DIR] [--out models/roles]

Data: AnnoMI ``interlocutor`` labels (read in place, never copied) split by ``transcript_id``
with ``training/splits/annomi.json`` (train / calib / dev), and the authored corpus
(``training/data/authored/*.csv``) split by session with ``training/splits/authored.json`` when
it exists, else by a stable hash of the session id. Transcripts whose speaker labels look
swapped (AnnoMI has a few) are found with cross-validated predictions and left out of training.
Writes ``config.json`` (vocabulary, settings, calibration, data hashes, metrics) and
``weights.npz`` (idf, coefficients): no pickle.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

from tagger.audio.roles import FORMAT_VERSION, RoleModel, assign_roles, tokens

ROOT = Path(__file__).resolve().parents[1]
ANNOMI = Path("/work/shared/data/annomi/AnnoMI-simple.csv")
AUTHORED = ROOT / "training" / "data" / "authored"
SPLITS = ROOT / "training" / "splits"
OUT = ROOT / "models" / "roles"
MAX_FEATURES = 6000
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)

Session = tuple[str, list[tuple[str, str]]]  # (session id, [(role, text)])


def load_annomi(path: Path) -> dict[str, Session]:
    sessions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            role = row["interlocutor"].strip()
            if role in ("therapist", "client") and row["utterance_text"].strip():
                sessions[f"annomi:{row['transcript_id']}"].append((role, row["utterance_text"]))
    return {k: (k, v) for k, v in sessions.items()}


def load_authored(directory: Path) -> dict[str, Session]:
    out = {}
    for p in sorted(directory.glob("*.csv")):
        rows = []
        with p.open(encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or not {"speaker", "text"} <= set(reader.fieldnames):
                continue  # e.g. sessions.csv (metadata)
            for row in reader:
                if row["speaker"] in ("therapist", "client") and row["text"].strip():
                    rows.append((row["speaker"], row["text"]))
        if rows:
            out[f"authored:{p.stem}"] = (f"authored:{p.stem}", rows)
    return out


def split_ids(ids: list[str], prefix: str, split_file: Path) -> dict[str, str]:
    """Map session id -> train/calib/dev (or reserve: unused) using the project's split file, else a stable hash."""
    assigned: dict[str, str] = {}
    if split_file.is_file():
        spec = json.loads(split_file.read_text())
        for part in ("train", "calib", "dev", "reserve"):
            for sid in spec.get(part, []):
                assigned[f"{prefix}:{sid}"] = part
    for sid in ids:
        if sid not in assigned:
            h = zlib.crc32(sid.encode()) % 10
            assigned[sid] = "dev" if h < 2 else "calib" if h < 3 else "train"
    return {sid: assigned[sid] for sid in ids}


def fit(sessions: list[Session], c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [t for _, rows in sessions for _, t in rows]
    y = np.array([r == "therapist" for _, rows in sessions for r, _ in rows], dtype=int)
    vec = TfidfVectorizer(analyzer=tokens, min_df=2, sublinear_tf=True, max_features=MAX_FEATURES)
    x = vec.fit_transform(texts)
    clf = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    clf.fit(x, y)
    vocab = [None] * len(vec.vocabulary_)
    for t, i in vec.vocabulary_.items():
        vocab[i] = t
    cfg = {"speaker_scale": 1.0, "sublinear_tf": True, "format_version": FORMAT_VERSION, "kind": "tfidf-logreg-roles"}
    return RoleModel(vocab, vec.idf_, clf.coef_[0], float(clf.intercept_[0]), cfg)


def utterance_accuracy(model: RoleModel, sessions: list[Session]) -> float:
    texts = [t for _, rows in sessions for _, t in rows]
    y = np.array([r == "therapist" for _, rows in sessions for r, _ in rows])
    return float(np.mean((model.logits(texts) > 0) == y)) if texts else float("nan")


def speaker_means(model: RoleModel, rows: list[tuple[str, str]]) -> dict[str, float]:
    by = defaultdict(list)
    for r, t in rows:
        by[r].append(t)
    return model.speaker_scores(by)


def windows(
    rows: list[tuple[str, str]], rng: np.random.Generator, n: int, sizes: tuple[int, int] = (6, 60)
) -> list[list[tuple[str, str]]]:
    """Random contiguous stretches of ``sizes`` utterances: short recordings must work too."""
    out = []
    for _ in range(n):
        size = int(rng.integers(sizes[0], sizes[1] + 1))
        if len(rows) <= size:
            out.append(rows)
            continue
        s = int(rng.integers(0, len(rows) - size))
        out.append(rows[s : s + size])
    return [w for w in out if {r for r, _ in w} == {"therapist", "client"}]


def fit_scale(model: RoleModel, sessions: list[Session], seed: int = 0) -> float:
    """Temperature for P(therapist) = sigmoid(scale * (m_T - m_C)), by max likelihood.

    Fitted on the hardest case, one therapist and one client utterance from the same session:
    on longer stretches the role model makes no mistakes on held-out data and the
    maximum-likelihood temperature would run off to infinity. Longer recordings get larger
    mean differences, so their confidence still rises, conservatively.
    """
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(seed)
    diffs = []
    for _, rows in sessions:
        t = [x for r, x in rows if r == "therapist"]
        c = [x for r, x in rows if r == "client"]
        if not t or not c:
            continue
        lt, lc = model.logits(t), model.logits(c)
        for _ in range(50):
            diffs.append(lt[rng.integers(len(t))] - lc[rng.integers(len(c))])
    d = np.array(diffs)

    def nll(a: float) -> float:
        return float(np.sum(np.logaddexp(0, -a * d)))

    return float(minimize_scalar(nll, bounds=(0.01, 20), method="bounded").x)


def session_accuracy(model: RoleModel, sessions: list[Session], seed: int = 1) -> dict[str, float]:
    """Share of sessions (whole, and random 6-60 utterance windows) whose therapist is found."""
    rng = np.random.default_rng(seed)
    whole, win, conf = [], [], []
    for _, rows in sessions:
        for target, w in [(whole, rows)] + [(win, x) for x in windows(rows, rng, 10)]:
            if {r for r, _ in w} != {"therapist", "client"}:
                continue
            a = assign_roles(speaker_means(model, w), model.scale)
            target.append(a.therapist == "therapist")
            if target is win:
                conf.append(a.overall_confidence)
    return {
        "whole_sessions": float(np.mean(whole)) if whole else float("nan"),
        "n_sessions": len(whole),
        "windows_6_60": float(np.mean(win)) if win else float("nan"),
        "n_windows": len(win),
        "mean_confidence_windows": float(np.mean(conf)) if conf else float("nan"),
    }


def find_swapped(sessions: list[Session], c: float, folds: int = 5) -> list[str]:
    """Sessions whose labelled therapist reads like a client under a model that never saw them."""
    swapped = []
    for k in range(folds):
        held = [s for i, s in enumerate(sessions) if i % folds == k]
        model = fit([s for i, s in enumerate(sessions) if i % folds != k], c)
        for sid, rows in held:
            m = speaker_means(model, rows)
            if len(m) == 2 and m["therapist"] - m["client"] < -0.5:
                swapped.append(sid)
    return sorted(swapped)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annomi", type=Path, default=ANNOMI)
    ap.add_argument("--authored", type=Path, default=AUTHORED)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if not args.annomi.is_file():
        print(f"AnnoMI not found at {args.annomi}; pass --annomi PATH", file=sys.stderr)
        return 2
    annomi = load_annomi(args.annomi)
    authored = load_authored(args.authored) if args.authored.is_dir() else {}
    parts = {**split_ids(sorted(annomi), "annomi", SPLITS / "annomi.json"),
             **split_ids(sorted(authored), "authored", SPLITS / "authored.json")}  # fmt: skip
    everything = {**annomi, **authored}
    by_part: dict[str, list[Session]] = defaultdict(list)
    for sid in sorted(everything):
        by_part[parts[sid]].append(everything[sid])

    # Model selection on calib, at the utterance level.
    best_c, best_acc = C_GRID[0], -1.0
    for c in C_GRID:
        acc = utterance_accuracy(fit(by_part["train"], c), by_part["calib"])
        print(f"C={c}: calib utterance accuracy {acc:.3f}", file=sys.stderr)
        if acc > best_acc:
            best_c, best_acc = c, acc
    swapped = find_swapped(by_part["train"], best_c)
    print(f"left out as swapped: {swapped}", file=sys.stderr)
    train = [s for s in by_part["train"] if s[0] not in swapped]
    model = fit(train, best_c)
    model.scale = fit_scale(model, by_part["calib"])
    model.config["speaker_scale"] = model.scale

    dev = by_part["dev"]
    metrics = {
        "dev_utterance_accuracy": utterance_accuracy(model, dev),
        "dev_annomi_sessions": session_accuracy(model, [s for s in dev if s[0].startswith("annomi:")]),
        "dev_authored_sessions": session_accuracy(model, [s for s in dev if s[0].startswith("authored:")]),
        "calib_utterance_accuracy": utterance_accuracy(model, by_part["calib"]),
    }
    vocab = [None] * len(model.index)
    for t, i in model.index.items():
        vocab[i] = t
    config = {
        "kind": "tfidf-logreg-roles",
        "format_version": FORMAT_VERSION,
        "labels": ["client", "therapist"],
        "positive_label": "therapist",
        "features": "tokens() of tagger.audio.roles: lower-cased words and '?', uni+bigrams; TF-IDF, sublinear tf, l2",
        "sublinear_tf": True,
        "max_features": MAX_FEATURES,
        "C": best_c,
        "speaker_scale": model.scale,
        "speaker_aggregation": "length-weighted mean utterance logit; P(therapist)=softmax(scale*mean)",
        "trained": dt.date.today().isoformat(),
        "data": {
            "annomi_file": str(args.annomi.name),
            "annomi_sha256": sha256(args.annomi),
            "authored_files": {p.name: sha256(p) for p in sorted(args.authored.glob("*.csv"))} if authored else {},
            "split_counts": {k: len(v) for k, v in sorted(by_part.items())},
            "train_utterances": sum(len(r) for _, r in train),
            "left_out_swapped": swapped,
        },
        "metrics": metrics,
        "vocabulary": vocab,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out / "weights.npz",
        idf=model.idf.astype(np.float32),
        coef=model.coef.astype(np.float32),
        intercept=np.float32(model.intercept),
    )
    (args.out / "config.json").write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    json.dump({k: v for k, v in config.items() if k != "vocabulary"}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
