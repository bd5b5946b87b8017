"""Which speaker is the therapist: a text role model aggregated per speaker.

The model (``models/roles/``) is TF-IDF over word uni/bigrams plus a logistic regression giving
P(therapist | utterance), stored as JSON + ``.npz`` (no pickle) and trained by
``python -m training.roles``. Per speaker, utterance logits are averaged (weighted by length),
and P(speaker i is the therapist) = softmax_i(scale * mean_logit_i), with ``scale`` fitted on
held-out sessions so the reported confidence is calibrated. The most likely speaker is the
therapist and every other speaker a client (couples and family sessions have several clients).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tagger.errors import InputError, ModelError

FORMAT_VERSION = 1
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|\?")


def tokens(text: str) -> list[str]:
    """Lower-cased words (apostrophes kept) and '?' as unigrams plus adjacent bigrams."""
    uni = _TOKEN.findall(text.lower().replace("’", "'"))
    return uni + [f"{a} {b}" for a, b in zip(uni, uni[1:], strict=False)]


def default_model_dir() -> Path:
    """``models/roles`` of the source tree this package lives in."""
    return Path(__file__).resolve().parents[2] / "models" / "roles"


@dataclass(frozen=True)
class RoleAssignment:
    """Roles per speaker label with P(therapist) and the confidence in each role."""

    roles: Mapping[str, str]
    therapist_probability: Mapping[str, float]
    confidence: Mapping[str, float]
    therapist: str
    source: str  # "model", "override" or "single-speaker"

    @property
    def overall_confidence(self) -> float:
        return float(self.therapist_probability[self.therapist]) if self.source != "override" else 1.0


class RoleModel:
    """P(therapist | text) from a saved TF-IDF + logistic-regression artifact."""

    def __init__(self, vocab: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: float, config: dict) -> None:
        self.index = {t: i for i, t in enumerate(vocab)}
        self.idf = idf.astype(np.float32)
        self.coef = coef.astype(np.float32)
        self.intercept = float(intercept)
        self.config = config
        self.scale = float(config["speaker_scale"])
        self.sublinear_tf = bool(config.get("sublinear_tf", True))

    @classmethod
    def load(cls, directory: str | Path | None = None) -> RoleModel:
        d = Path(directory) if directory is not None else default_model_dir()
        cfg_path, npz_path = d / "config.json", d / "weights.npz"
        if not cfg_path.is_file() or not npz_path.is_file():
            raise ModelError(
                f"role model not found in {d} (needs config.json and weights.npz); train it with "
                "`python -m training.roles` or pass --role-model DIR; use --therapist-speaker to skip it"
            )
        try:
            config = json.loads(cfg_path.read_text(encoding="utf-8"))
            with np.load(npz_path, allow_pickle=False) as z:
                idf, coef, intercept = z["idf"], z["coef"], float(z["intercept"])
            vocab = config["vocabulary"]
        except (ValueError, KeyError, OSError) as exc:
            raise ModelError(
                f"role model in {d} is unreadable ({exc}); retrain it with `python -m training.roles`"
            ) from None
        if config.get("format_version") != FORMAT_VERSION or config.get("kind") != "tfidf-logreg-roles":
            raise ModelError(
                f"role model in {d} has format {config.get('kind')}/{config.get('format_version')}, "
                f"this version reads tfidf-logreg-roles/{FORMAT_VERSION}; retrain it with `python -m training.roles`"
            )
        if not (len(vocab) == len(idf) == len(coef)):
            raise ModelError(f"role model in {d} is inconsistent (vocabulary and weights differ in size); retrain it")
        return cls(vocab, idf, coef, intercept, config)

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Log-odds that each text was said by the therapist."""
        out = np.full(len(texts), self.intercept, dtype=np.float64)
        for i, text in enumerate(texts):
            counts: dict[int, int] = {}
            for t in tokens(text):
                j = self.index.get(t)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64)
            tf = np.fromiter(counts.values(), dtype=np.float64)
            if self.sublinear_tf:
                tf = 1.0 + np.log(tf)
            v = tf * self.idf[idx]
            out[i] += float(v @ self.coef[idx]) / (float(np.linalg.norm(v)) or 1.0)
        return out

    def speaker_scores(self, texts_by_speaker: Mapping[str, Sequence[str]]) -> dict[str, float]:
        """Length-weighted mean utterance log-odds per speaker."""
        scores = {}
        for spk, texts in texts_by_speaker.items():
            texts = [t for t in texts if t.strip()]
            if not texts:
                scores[spk] = 0.0
                continue
            w = np.array([min(len(t.split()), 20) for t in texts], dtype=np.float64)
            scores[spk] = float(np.average(self.logits(texts), weights=w))
        return scores

    def assign(self, texts_by_speaker: Mapping[str, Sequence[str]], *, therapist: str | None = None) -> RoleAssignment:
        """Pick the therapist among the speakers (or take ``therapist`` as given)."""
        return assign_roles(self.speaker_scores(texts_by_speaker), self.scale, therapist=therapist)


def assign_roles(scores: Mapping[str, float], scale: float, *, therapist: str | None = None) -> RoleAssignment:
    """Roles from per-speaker mean log-odds; ``therapist`` overrides the model."""
    labels = list(scores)
    if not labels:
        raise InputError("no speakers to assign roles to")
    if therapist is not None and therapist not in scores:
        raise InputError(f"--therapist-speaker {therapist!r} is not among the detected speakers: {', '.join(labels)}")
    if len(labels) == 1:
        p1 = 1 / (1 + math.exp(-scale * scores[labels[0]]))
        role = "therapist" if (therapist == labels[0] or (therapist is None and p1 >= 0.5)) else "client"
        conf1 = 1.0 if therapist else (p1 if role == "therapist" else 1 - p1)
        return RoleAssignment({labels[0]: role}, {labels[0]: p1}, {labels[0]: conf1}, labels[0],
                              "override" if therapist else "single-speaker")  # fmt: skip
    z = np.array([scale * scores[s] for s in labels])
    p = np.exp(z - z.max())
    p /= p.sum()
    prob = {s: float(pi) for s, pi in zip(labels, p, strict=True)}
    chosen = therapist or labels[int(np.argmax(p))]
    roles = {s: ("therapist" if s == chosen else "client") for s in labels}
    if therapist is not None:
        conf = dict.fromkeys(labels, 1.0)
    else:
        conf = {s: (prob[s] if s == chosen else 1 - prob[s]) for s in labels}
    return RoleAssignment(roles, prob, conf, chosen, "override" if therapist else "model")
