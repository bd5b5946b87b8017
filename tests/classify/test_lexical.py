"""The lexical (TF-IDF + logistic regression) model: exact TF-IDF, portable save/load, fusion weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tagger.classify.labels import IGNORE, LabelSpace, Targets
from tagger.classify.lexical import LexicalModel, current_terms, fuse, lexical_inputs, tfidf
from tagger.errors import ModelError
from tagger.io.labeled import read_labeled
from tagger.training.baseline import TfidfBaseline
from tagger.training.calibrate import fit_fusion, fit_fusion_groups
from tagger.training.data import AUTHORED_DIR
from tagger.training.run import _targets
from tagger.training.trainer import Prepared


def test_terms_mark_the_role_and_keep_bigrams():
    assert current_terms("What's   got you here?", "therapist") == [
        "__therapist__",
        "what's",
        "got",
        "you",
        "here",
        "?",
        "what's got",
        "got you",
        "you here",
        "here ?",
    ]


def test_tfidf_matches_scikit_learn():
    docs = [["breathe", "in", "breathe", "out"], ["in", "the", "morning"], ["out", "of", "breath"], []]
    vec = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True).fit(docs)
    index = dict(vec.vocabulary_)
    ours = tfidf(docs + [["unseen", "in"]], index, vec.idf_).toarray()
    theirs = vec.transform(docs + [["unseen", "in"]]).toarray()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.fixture(scope="module")
def fitted() -> tuple[TfidfBaseline, list]:
    from tagger.classify.labels import encode_targets

    space = LabelSpace.default()
    sessions = [read_labeled(AUTHORED_DIR / f"{sid}.csv", fmt="codes")[0] for sid in ("s001", "s015", "s043", "s071")]
    prepared = [
        Prepared(
            ls,
            None,  # type: ignore[arg-type]  (the baseline reads only the session and targets)
            encode_targets(
                space,
                [u.speaker for u in ls.session.utterances],
                [ls.labels.get(u.utterance_id) for u in ls.session.utterances],
            ),
        )
        for ls in sessions
    ]
    return TfidfBaseline(space).fit(sessions[:3], _targets(prepared[:3])), sessions


def test_lexical_model_round_trips_through_files(fitted, tmp_path: Path):
    bl, sessions = fitted
    bl.model.save(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"lexical.json", "lexical.npz"}
    loaded = LexicalModel.load(tmp_path)
    dev = sessions[3]
    x = lexical_inputs([([u.text for u in dev.session.utterances], [u.speaker for u in dev.session.utterances])])
    a, b = bl.logits([dev]), loaded.logits(x)
    assert set(a) == {"therapist", "main", "talk", "risk"}
    assert a["therapist"].shape == (len(dev.session.utterances), len(LabelSpace.default().therapist))
    for head in a:  # fitted at the stored precision: loading changes nothing
        np.testing.assert_allclose(a[head], b[head], rtol=0, atol=1e-9)
    # main and talk are log-probabilities
    np.testing.assert_allclose(np.exp(b["main"]).sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.exp(b["talk"]).sum(1), 1.0, atol=1e-6)


def test_broken_lexical_files_are_named(fitted, tmp_path: Path):
    bl, _ = fitted
    bl.model.save(tmp_path)
    (tmp_path / "lexical.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="lexical model unreadable"):
        LexicalModel.load(tmp_path)


def _targets_binary(y: np.ndarray) -> Targets:
    n = len(y)
    return Targets(
        y[:, None].astype(np.float32),
        np.ones((n, 1), np.float32),
        np.full(n, IGNORE),
        np.full(n, IGNORE),
        np.zeros(n, np.float32),
        np.zeros(n, np.float32),
    )


def test_fusion_weight_follows_what_the_lexical_scores_add():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    signal = np.where(y == 1, 1.0, -1.0)
    net = {
        "therapist": (signal + rng.normal(0, 1.5, 2000))[:, None],
        "main": np.zeros((2000, 4)),
        "talk": np.zeros((2000, 3)),
        "risk": np.zeros(2000),
    }
    noise = {k: rng.normal(0, 1, v.shape) for k, v in net.items()}
    informative = dict(noise, therapist=(signal + rng.normal(0, 1.5, 2000))[:, None])
    t = _targets_binary(y)
    assert fit_fusion(net, noise, t)["therapist"] == 0.0
    w = fit_fusion(net, informative, t)["therapist"]
    assert 0.3 <= w <= 0.7  # two equally good, independent views: about half each
    fused = fuse(net, informative, {"therapist": w})
    np.testing.assert_allclose(fused["therapist"], (1 - w) * net["therapist"] + w * informative["therapist"])
    assert fused["main"] is not None and np.array_equal(fused["main"], net["main"])



def test_grouped_fusion_counts_each_group_once():
    """Per-corpus fitting: a small group whose lexical view helps weighs as much as a big group where
    it is noise, while pooling their rows lets the big group decide."""
    rng = np.random.default_rng(1)

    def group(n: int, lexical_helps: bool) -> tuple[dict, dict, np.ndarray]:
        y = rng.integers(0, 2, n)
        signal = np.where(y == 1, 1.0, -1.0)
        net = {"therapist": (signal + rng.normal(0, 1.5, n))[:, None], "main": np.zeros((n, 4)),
               "talk": np.zeros((n, 3)), "risk": np.zeros(n)}  # fmt: skip
        lex = {k: rng.normal(0, 1, v.shape) for k, v in net.items()}
        if lexical_helps:
            lex["therapist"] = (signal + rng.normal(0, 1.5, n))[:, None]
        return net, lex, y

    net, lex, y = group(2000, True)
    plain = fit_fusion(net, lex, _targets_binary(y))
    assert fit_fusion_groups([(net, lex, _targets_binary(y))]) == plain  # one group is the plain fit
    assert fit_fusion_groups([(net, lex, _targets_binary(y))] * 2) == plain  # equal groups: the same optimum
    big, small = group(6000, False), group(600, True)
    pooled = fit_fusion(
        {k: np.concatenate([big[0][k], small[0][k]]) for k in net},
        {k: np.concatenate([big[1][k], small[1][k]]) for k in net},
        _targets_binary(np.concatenate([big[2], small[2]])),
    )
    grouped = fit_fusion_groups([(g[0], g[1], _targets_binary(g[2])) for g in (big, small)])
    assert grouped["therapist"] > pooled["therapist"]
