"""TF-IDF + logistic regression baseline on the same data, splits, context and calibration.

Fitted with scikit-learn, then exported as a :class:`~tagger.classify.lexical.LexicalModel`
(plain arrays) which computes every score: the baseline's reported metrics, and the lexical
part the shipped classifier fuses with its network, come from the same code.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from tagger.classify.features import N_FEATURES
from tagger.classify.labels import IGNORE, LabelSpace, Targets
from tagger.classify.lexical import LOGIT_CLIP, LexicalInputs, LexicalModel, lexical_inputs
from tagger.io.labeled import LabeledSession


def _inputs(sessions: Sequence[LabeledSession]) -> LexicalInputs:
    return lexical_inputs(
        [([u.text for u in s.session.utterances], [u.speaker for u in s.session.utterances]) for s in sessions]
    )


def _vocab(docs: list[list[str]], max_features: int) -> tuple[tuple[str, ...], np.ndarray]:
    vec = TfidfVectorizer(analyzer=lambda d: d, min_df=2, sublinear_tf=True, max_features=max_features)
    vec.fit(docs)
    vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    return tuple(vocab), vec.idf_.astype(np.float64)


class TfidfBaseline:
    def __init__(self, space: LabelSpace, seed: int = 13, max_current: int = 50000, max_previous: int = 20000) -> None:
        self.space = space
        self.seed = seed
        self.max_current = max_current
        self.max_previous = max_previous
        self.model: LexicalModel | None = None

    def _lr(self, x, y, balanced: bool = True) -> LogisticRegression | None:
        if len(np.unique(y)) < 2:
            return None
        return LogisticRegression(
            C=4.0, max_iter=2000, class_weight="balanced" if balanced else None, random_state=self.seed
        ).fit(x, y)

    def fit(self, sessions: Sequence[LabeledSession], y: Targets) -> TfidfBaseline:
        inp = _inputs(sessions)
        cur_vocab, cur_idf = _vocab(inp.current, self.max_current)
        prev_vocab, prev_idf = _vocab(inp.previous, self.max_previous)
        sp = self.space
        heads = {"therapist": (0, len(sp.therapist))}
        heads["main"] = (heads["therapist"][1], heads["therapist"][1] + len(sp.main))
        heads["talk"] = (heads["main"][1], heads["main"][1] + len(sp.talk))
        heads["risk"] = (heads["talk"][1], heads["talk"][1] + 1)
        d_in = len(cur_vocab) + len(prev_vocab) + N_FEATURES
        weight = np.zeros((d_in, heads["risk"][1]), np.float64)
        bias = np.zeros(heads["risk"][1], np.float64)
        empty = LexicalModel(cur_vocab, cur_idf, prev_vocab, prev_idf, weight, bias, heads)
        x = empty.features(inp)

        def binary(col: int, mdl: LogisticRegression | None) -> None:
            if mdl is None:  # never positive (or never negative) in training: a constant
                bias[col] = -LOGIT_CLIP
            else:
                weight[:, col] = mdl.coef_[0]
                bias[col] = mdl.intercept_[0]

        for j in range(len(sp.therapist)):
            m = y.therapist_mask[:, j] > 0
            binary(j, self._lr(x[m], y.therapist[m, j].astype(int), balanced=False) if m.any() else None)
        for head in ("main", "talk"):
            keep = getattr(y, head) != IGNORE
            mdl = self._lr(x[keep], getattr(y, head)[keep])
            a, b = heads[head]
            bias[a:b] = -1e4  # classes never seen in training stay at the log-probability floor
            if mdl is not None:
                for r, c in enumerate(mdl.classes_):
                    weight[:, a + c] = mdl.coef_[r] if len(mdl.classes_) > 2 else (2 * r - 1) * mdl.coef_[0] / 2
                    bias[a + c] = mdl.intercept_[r] if len(mdl.classes_) > 2 else (2 * r - 1) * mdl.intercept_[0] / 2
        rm = y.risk_mask > 0
        binary(heads["risk"][0], self._lr(x[rm], y.risk[rm].astype(int), balanced=False) if rm.any() else None)
        # at the precision it is stored in (float16 weights), so what is scored here is what ships
        self.model = LexicalModel(
            cur_vocab,
            cur_idf.astype(np.float32).astype(np.float64),
            prev_vocab,
            prev_idf.astype(np.float32).astype(np.float64),
            weight.astype(np.float16).astype(np.float32),
            bias.astype(np.float32).astype(np.float64),
            heads,
        )
        return self

    def logits(self, sessions: Sequence[LabeledSession]) -> dict[str, np.ndarray]:
        """Log-odds in the same layout as the network's logits (so calibration and scoring are shared)."""
        if self.model is None:
            raise RuntimeError("fit the baseline first")
        return self.model.logits(_inputs(sessions))
