"""Sentence vectors pooled from their turn's own encoding (evidence sentences without a second encoder pass)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tagger.classify import EngineOptions, load_classifier
from tagger.classify.spans import sentence_token_spans
from tagger.segment import Segmenter
from tagger.types import Session, Utterance

TURN = (
    "Okay, so let me say back what I heard. You've had a really hard month at work and the panic has come back. "
    "What would it be like to write down the thoughts each time the panic shows up this week?"
)
SENTENCES = [
    "Okay, so let me say back what I heard.",
    "You've had a really hard month at work and the panic has come back.",
    "What would it be like to write down the thoughts each time the panic shows up this week?",
]


@pytest.fixture(scope="module")
def clf(shipped_model):
    return load_classifier(shipped_model, options=EngineOptions(backend="torch"))


def _session(*turns: tuple[str, str]) -> Session:
    return Session("sp", tuple(Utterance("sp", str(i), spk, text) for i, (spk, text) in enumerate(turns)))


def test_sentence_token_spans_follow_the_tokenizer(clf):
    enc = clf.tokenizer(TURN, return_offsets_mapping=True)
    spans = sentence_token_spans(TURN, SENTENCES, enc["offset_mapping"])
    assert spans is not None and spans[0][0] == 1 and spans[-1][1] == len(enc["input_ids"]) - 1  # [CLS] .. [SEP]
    for (a, b), sentence in zip(spans, SENTENCES, strict=True):
        assert clf.tokenizer.decode(enc["input_ids"][a:b]) == clf.tokenizer.decode(
            clf.tokenizer(sentence, add_special_tokens=False)["input_ids"]
        )
    assert sentence_token_spans(TURN, ["Not in the turn."], enc["offset_mapping"]) is None
    assert sentence_token_spans(TURN, [SENTENCES[1], SENTENCES[0]], enc["offset_mapping"]) is None  # out of order


@pytest.mark.parametrize("backend", ["torch", "onnx-fp32", "onnx"])
def test_span_vectors_are_means_of_the_turns_token_states(shipped_model, clf, backend):
    enc = clf.tokenizer([TURN, "Yes."], padding=True, return_tensors="np")
    ids, mask = enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)
    spans = [(0, 1, 12), (0, 12, 20), (1, 1, 3)]
    with torch.no_grad():
        states = clf.model.encoder(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask))
    want = torch.stack([states.last_hidden_state[r, a:b].mean(0) for r, a, b in spans])
    encoder = clf.encoder if backend == "torch" else load_classifier(
        shipped_model, options=EngineOptions(backend=backend)
    ).encoder
    out = encoder(ids, mask, spans)
    plain = encoder(ids, mask)
    assert out.shape == (2 + len(spans), clf.hidden)
    torch.testing.assert_close(out[:2], plain)  # the pooled rows do not change when spans are asked for
    if backend == "onnx":  # int8 activations: as close as its whole-text vectors are (cosine 0.988-0.993 here)
        assert torch.nn.functional.cosine_similarity(out[2:], want).min() >= 0.98
    else:
        assert (out[2:] - want).abs().max() <= {"torch": 1e-5, "onnx-fp32": 1e-4}[backend]


def test_tag_pools_sentences_of_turns_that_fit_and_encodes_those_that_do_not(clf):
    long_turn = " ".join([SENTENCES[1]] * 9)  # > 96 tokens: its tail is beyond the encoder's limit
    s = _session(("client", "The panic is back."), ("therapist", TURN), ("therapist", long_turn))
    seg = Segmenter(min_words=10)
    spans = clf._sentence_spans([s], [seg(s)], [0])
    segmented = seg(s).utterances
    pooled = {segmented[r - 3].parent_id for r in spans}  # rows of the segmented copy start after the 3 turns
    assert pooled == {"1"}  # the over-long turn's sentences are encoded on their own
    assert all(src == 1 for src, _, _ in spans.values())
    tagged = clf.tag_sessions([s], segmenter=seg)[0]
    assert tagged[1].evidence and all(e in SENTENCES for e in tagged[1].evidence.values())
    assert tagged[2].evidence and all(e == SENTENCES[1] for e in tagged[2].evidence.values())


def test_pooled_sentences_do_not_change_turn_scores(clf):
    s = _session(("client", "The panic is back, every day at work, and I hate it."), ("therapist", TURN))
    seg = Segmenter(min_words=10)
    plain = clf.scores([s])[0]
    both = clf._scores([s, seg(s)], None, clf._sentence_spans([s], [seg(s)], [0]))[0]
    np.testing.assert_allclose(both.therapist, plain.therapist, atol=1e-6)
    np.testing.assert_allclose(both.talk, plain.talk, atol=1e-6)
