"""The lexical model: TF-IDF over an utterance and the turn it answers, logistic regression per head.

It is the TF-IDF + logistic-regression baseline that ``tagger train`` reports, exported as plain
arrays (no pickle) so it can also ship inside an artifact. The shipped classifier fuses its
log-odds with the network's (a weight per head fitted on the calib split): word cues that a small
encoder underweights ("breathe in for four", "homework") come through, at a few percent of the
encoder's cost.

Features per utterance: TF-IDF (sublinear tf, l2-normalised) of the utterance's word uni/bigrams
with a role prefix, half-weighted TF-IDF of the previous other-speaker turn's words, and the
dialogue features of :mod:`tagger.classify.features`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from tagger.classify.features import N_FEATURES, prev_other_index, session_features
from tagger.errors import ModelError

FORMAT = "tfidf-logreg-heads/1"
PREV_WEIGHT = 0.5
LOGIT_CLIP = 13.8  # |log-odds| of p in [1e-6, 1 - 1e-6]
LOGPROB_FLOOR = -20.7  # log(1e-9)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|\?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def current_terms(text: str, speaker: str) -> list[str]:
    """The utterance's terms: a role marker, its words and word bigrams."""
    w = words(text)
    return [f"__{speaker}__", *w, *(f"{a} {b}" for a, b in zip(w, w[1:], strict=False))]


def previous_terms(text: str) -> list[str]:
    return words(text)


@dataclass(frozen=True)
class LexicalInputs:
    """Per utterance: its terms, the previous other-speaker turn's terms, dialogue features."""

    current: list[list[str]]
    previous: list[list[str]]
    feats: np.ndarray  # (N, N_FEATURES)


def lexical_inputs(
    sessions: Sequence[tuple[Sequence[str], Sequence[str]]],
    context: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> LexicalInputs:
    """From (texts, speakers) per session, in order. ``context``: each session's previous-other-turn
    indices and dialogue features where the caller has them already (the network's inputs)."""
    cur, prev, feats = [], [], []
    for k, (texts, speakers) in enumerate(sessions):
        if context is None:
            idx, f = prev_other_index(list(speakers)), session_features(list(texts), list(speakers))
        else:
            idx, f = context[k]
        cur.extend(current_terms(t, s) for t, s in zip(texts, speakers, strict=True))
        prev.extend(previous_terms(texts[j]) if j >= 0 else [] for j in idx)
        feats.append(f)
    return LexicalInputs(cur, prev, np.concatenate(feats) if feats else np.zeros((0, N_FEATURES), np.float32))


def fuse(net: dict, lexical: dict, weights: dict[str, float]) -> dict:
    """Per head of ``net``: (1 - w) * network logits + w * lexical log-odds (log-probabilities for main
    and talk). NumPy arrays or torch tensors, the same kind on both sides."""
    return {h: (1.0 - weights.get(h, 0.0)) * z + weights.get(h, 0.0) * lexical[h] for h, z in net.items()}


def tfidf(docs: Sequence[Sequence[str]], index: dict[str, int], idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear-tf TF-IDF rows, l2-normalised (as scikit-learn's TfidfVectorizer computes them)."""
    indptr, indices, data = [0], [], []
    for terms in docs:
        counts: dict[int, int] = {}
        for t in terms:
            j = index.get(t)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        cols = np.fromiter(counts, np.int64, len(counts))
        v = (1.0 + np.log(np.fromiter(counts.values(), np.float64, len(counts)))) * idf[cols]
        norm = float(np.sqrt(v @ v)) or 1.0
        indices.append(cols)
        data.append(v / norm)
        indptr.append(indptr[-1] + len(cols))
    values = np.concatenate(data) if data else np.zeros(0)
    columns = np.concatenate(indices) if indices else np.zeros(0, np.int64)
    return sparse.csr_matrix((values, columns, indptr), shape=(len(docs), len(idf)))


@dataclass(frozen=True)
class LexicalModel:
    """Vocabularies, idf weights and one linear layer producing every head's logits."""

    current_vocab: tuple[str, ...]
    current_idf: np.ndarray
    previous_vocab: tuple[str, ...]
    previous_idf: np.ndarray
    weight: np.ndarray  # (D_current + D_previous + N_FEATURES, K) float32
    bias: np.ndarray  # (K,)
    heads: dict[str, tuple[int, int]]  # head -> column range; "main"/"talk" are multiclass

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cur", {t: i for i, t in enumerate(self.current_vocab)})
        object.__setattr__(self, "_prev", {t: i for i, t in enumerate(self.previous_vocab)})

    def features(self, x: LexicalInputs) -> sparse.csr_matrix:
        a = tfidf(x.current, self._cur, self.current_idf)  # type: ignore[attr-defined]
        b = tfidf(x.previous, self._prev, self.previous_idf)  # type: ignore[attr-defined]
        return sparse.hstack([a, PREV_WEIGHT * b, sparse.csr_matrix(x.feats)], format="csr")

    def logits(self, x: LexicalInputs) -> dict[str, np.ndarray]:
        """Log-odds (binary heads) and log-probabilities (main, talk), in the network's layout."""
        z = np.asarray(self.features(x) @ self.weight) + self.bias
        out = {}
        for head, (a, b) in self.heads.items():
            zh = z[:, a:b]
            if head in ("main", "talk"):
                zh = zh - zh.max(1, keepdims=True)
                zh = np.maximum(zh - np.log(np.exp(zh).sum(1, keepdims=True)), LOGPROB_FLOOR)
            else:
                zh = np.clip(zh, -LOGIT_CLIP, LOGIT_CLIP)
            out[head] = zh[:, 0] if head == "risk" else zh
        return out

    def session_logits(
        self,
        sessions: Sequence[tuple[Sequence[str], Sequence[str]]],
        context: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> dict[str, np.ndarray]:
        return self.logits(lexical_inputs(sessions, context))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "heads": {k: list(v) for k, v in self.heads.items()},
            "current_vocab": list(self.current_vocab),
            "previous_vocab": list(self.previous_vocab),
        }
        (directory / "lexical.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
        np.savez_compressed(
            directory / "lexical.npz",
            current_idf=self.current_idf.astype(np.float32),
            previous_idf=self.previous_idf.astype(np.float32),
            weight=self.weight.astype(np.float16),
            bias=self.bias.astype(np.float32),
        )

    @classmethod
    def load(cls, directory: Path) -> LexicalModel:
        try:
            meta = json.loads((directory / "lexical.json").read_text(encoding="utf-8"))
            with np.load(directory / "lexical.npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in ("current_idf", "previous_idf", "weight", "bias")}
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"{directory}: lexical model unreadable ({exc}); retrain with `tagger train`") from None
        if meta.get("format") != FORMAT:
            raise ModelError(f"{directory}: lexical model format {meta.get('format')!r}, this tagger reads {FORMAT}")
        model = cls(
            tuple(meta["current_vocab"]),
            arrays["current_idf"].astype(np.float64),
            tuple(meta["previous_vocab"]),
            arrays["previous_idf"].astype(np.float64),
            arrays["weight"].astype(np.float32),
            arrays["bias"].astype(np.float64),
            {k: (int(v[0]), int(v[1])) for k, v in meta["heads"].items()},
        )
        d_in = len(model.current_vocab) + len(model.previous_vocab) + N_FEATURES
        if model.weight.shape != (d_in, len(model.bias)) or len(model.current_idf) != len(model.current_vocab):
            raise ModelError(f"{directory}: lexical model is inconsistent (vocabularies and weights differ in size)")
        return model
