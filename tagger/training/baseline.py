"""TF-IDF + logistic regression baseline on the same data, splits, context and calibration."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tagger.classify.features import prev_other_index, session_features
from tagger.classify.labels import IGNORE, LabelSpace, Targets
from tagger.io.labeled import LabeledSession


def _texts(sessions: Sequence[LabeledSession]) -> tuple[list[str], list[str], np.ndarray]:
    cur, prev, feats = [], [], []
    for ls in sessions:
        utts = ls.session.utterances
        spk = [u.speaker for u in utts]
        idx = prev_other_index(spk)
        for u, j in zip(utts, idx, strict=True):
            cur.append(f"__{u.speaker}__ {u.text}")
            prev.append(utts[j].text if j >= 0 else "")
        feats.append(session_features([u.text for u in utts], spk))
    return cur, prev, np.concatenate(feats)


class TfidfBaseline:
    def __init__(self, space: LabelSpace, seed: int = 13) -> None:
        self.space = space
        self.seed = seed
        self.cur = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50000)
        self.prev = TfidfVectorizer(ngram_range=(1, 1), min_df=2, sublinear_tf=True, max_features=20000)
        self.models: dict[str, LogisticRegression | None] = {}

    def _x(self, sessions: Sequence[LabeledSession], fit: bool = False):
        cur, prev, feats = _texts(sessions)
        a = self.cur.fit_transform(cur) if fit else self.cur.transform(cur)
        b = self.prev.fit_transform(prev) if fit else self.prev.transform(prev)
        return sparse.hstack([a, 0.5 * b, sparse.csr_matrix(feats)]).tocsr()

    def _lr(self, x, y, balanced: bool = True) -> LogisticRegression | None:
        if len(np.unique(y)) < 2:
            return None
        return LogisticRegression(
            C=4.0, max_iter=2000, class_weight="balanced" if balanced else None, random_state=self.seed
        ).fit(x, y)

    def fit(self, sessions: Sequence[LabeledSession], y: Targets) -> TfidfBaseline:
        x = self._x(sessions, fit=True)
        for j, code in enumerate(self.space.therapist):
            m = y.therapist_mask[:, j] > 0
            self.models[code] = self._lr(x[m], y.therapist[m, j].astype(int), balanced=False) if m.any() else None
        for head in ("main", "talk"):
            keep = getattr(y, head) != IGNORE
            self.models[head] = self._lr(x[keep], getattr(y, head)[keep])
        rm = y.risk_mask > 0
        self.models["risk"] = self._lr(x[rm], y.risk[rm].astype(int), balanced=False) if rm.any() else None
        return self

    def logits(self, sessions: Sequence[LabeledSession]) -> dict[str, np.ndarray]:
        """Log-odds in the same layout as the network's logits (so calibration and scoring are shared)."""
        x = self._x(sessions)
        n = x.shape[0]

        def logit(p: np.ndarray) -> np.ndarray:
            p = np.clip(p, 1e-6, 1 - 1e-6)
            return np.log(p / (1 - p))

        th = np.full((n, len(self.space.therapist)), -10.0)
        for j, code in enumerate(self.space.therapist):
            mdl = self.models.get(code)
            if mdl is not None:
                th[:, j] = logit(mdl.predict_proba(x)[:, 1])
        out = {"therapist": th}
        for head, k in (("main", len(self.space.main)), ("talk", len(self.space.talk))):
            mdl = self.models.get(head)
            z = np.full((n, k), -10.0)
            if mdl is not None:
                z[:, mdl.classes_] = np.log(np.clip(mdl.predict_proba(x), 1e-9, 1))
            out[head] = z
        mdl = self.models.get("risk")
        out["risk"] = logit(mdl.predict_proba(x)[:, 1]) if mdl is not None else np.full(n, -10.0)
        return out
