"""Classifier building blocks on real parts: LoRA merge, context features, batching, thresholds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tagger.classify.batching import length_batches, pad_sessions, session_inputs
from tagger.classify.features import prev_other_index, session_features
from tagger.classify.labels import IGNORE, LabelSpace, encode_targets
from tagger.classify.lora import LoRALinear, inject_lora, merge_lora
from tagger.io.labeled import MAIN, TALK, GoldLabels
from tagger.training.calibrate import best_threshold, fit_temperature_binary, pooled_threshold


def test_lora_merge_is_exact():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    assert inject_lora(net, r=2, alpha=4) == 2
    for m in net.modules():
        if isinstance(m, LoRALinear):
            torch.nn.init.normal_(m.lora_b)  # non-zero update
    x = torch.randn(5, 8)
    before = net(x)
    assert merge_lora(net) == 2
    assert not any(isinstance(m, LoRALinear) for m in net.modules())
    torch.testing.assert_close(net(x), before, atol=1e-5, rtol=1e-5)


def test_only_lora_parameters_train():
    net = torch.nn.Sequential(torch.nn.Linear(8, 8))
    inject_lora(net, r=2, alpha=2)
    trainable = {n for n, p in net.named_parameters() if p.requires_grad}
    assert trainable == {"0.lora_a", "0.lora_b"}


def test_prev_other_index_follows_turns():
    speakers = ["therapist", "client", "client", "therapist", "therapist", "client"]
    assert prev_other_index(speakers).tolist() == [-1, 0, 0, 2, 2, 4]


def test_session_features_overlap_and_questions():
    texts = [
        "What brings you in today?",
        "My drinking has been getting worse since the layoff.",
        "Your drinking got worse after the layoff.",
    ]
    f = session_features(texts, ["therapist", "client", "therapist"])
    assert f[0, 0] == 1.0 and f[2, 0] == 0.0  # ends with '?'
    assert f[2, 4] == pytest.approx(0.75)  # drinking, worse, layoff of (drinking, worse, after, layoff)
    assert 0 < f[2, 5] < 1.0
    assert f[0, 4] == 0.0  # nothing before the first turn


def test_targets_mask_unobserved_labels():
    space = LabelSpace(therapist=("open_question", "validation"))
    annomi_like = GoldLabels(
        codes=frozenset({"open_question"}), main_behaviour="question", observed=frozenset({"open_question", MAIN})
    )
    client = GoldLabels(client_talk="change_talk", observed=frozenset({TALK}))
    t = encode_targets(space, ["therapist", "client", "therapist"], [annomi_like, client, None])
    assert t.therapist_mask[0].tolist() == [1.0, 0.0]  # validation is not annotated by this source
    assert t.therapist[0].tolist() == [1.0, 0.0]
    assert t.main.tolist() == [0, IGNORE, IGNORE]
    assert t.talk.tolist() == [IGNORE, 0, IGNORE]
    assert t.risk_mask.tolist() == [0.0, 0.0, 0.0]


def test_length_batches_respect_budgets_and_cover_all():
    lengths = np.array([5, 50, 7, 49, 6, 48, 30])
    batches = length_batches(lengths, max_batch=3, max_tokens_per_batch=100)
    assert sorted(np.concatenate(batches).tolist()) == list(range(7))
    for b in batches:
        assert len(b) <= 3 and lengths[b].max() * len(b) <= 100
        assert list(lengths[b]) == sorted(lengths[b])


def test_length_batches_cap_padding_once_a_batch_is_big_enough():
    lengths = np.array([4] * 8 + [40] * 8 + [5, 41])
    plain = length_batches(lengths, max_batch=64, max_tokens_per_batch=10_000)
    assert len(plain) == 1  # one batch: the short texts are padded to 41 tokens
    capped = length_batches(lengths, max_batch=64, max_tokens_per_batch=10_000, max_padding=0.25, min_batch=4)
    assert sorted(np.concatenate(capped).tolist()) == list(range(len(lengths)))
    for b in capped:
        assert lengths[b].max() * len(b) <= 1.25 * lengths[b].sum() or len(b) <= 4
    # below min_batch nothing is cut for padding
    assert len(length_batches(lengths[:6], 64, 10_000, max_padding=0.0, min_batch=8)) == 1


def test_pad_sessions_places_previous_turn_vectors():
    ids = [np.array([101, 5, 102])] * 3
    a = session_inputs(ids, ["Hi?", "Hello.", "So you're here."], ["therapist", "client", "therapist"])
    b = session_inputs(ids[:1], ["Yes."], ["client"])
    pooled = torch.arange(4 * 2, dtype=torch.float32).reshape(4, 2)
    cur, prev, feats, lengths = pad_sessions(pooled, [a, b])
    assert lengths.tolist() == [3, 1]
    torch.testing.assert_close(cur[1, 0], pooled[3])
    torch.testing.assert_close(prev[0, 2], pooled[1])  # therapist turn 2 sees client turn 1
    assert prev[0, 0].abs().sum() == 0 and prev[1, 0].abs().sum() == 0


def test_best_threshold_and_shrinkage():
    p = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1] * 20)
    y = np.array([1, 1, 1, 0, 0, 0] * 20)
    t = best_threshold(p, y)
    assert 0.3 < t <= 0.7  # separates the classes, pulled a little toward 0.5
    assert best_threshold(np.array([0.9, 0.1]), np.array([0, 0])) == 0.5  # no positives: prior


def test_pooled_threshold_is_the_prior_of_rare_codes():
    rng = np.random.default_rng(1)
    # codes whose positives score ~0.35 and negatives ~0.1: the best common threshold lies between
    columns = []
    for _ in range(5):
        y = (rng.random(400) < 0.1).astype(int)
        columns.append((np.clip(np.where(y == 1, 0.35, 0.1) + rng.normal(0, 0.04, 400), 0, 1), y))
    prior = pooled_threshold(columns)
    assert 0.15 < prior < 0.3
    assert pooled_threshold([(np.array([0.2]), np.array([0]))]) == 0.5  # no positives anywhere
    # a code with two calib positives lands near the pooled prior, not at its own noisy optimum
    p, y = np.array([0.9, 0.95, 0.1, 0.2]), np.array([1, 1, 0, 0])
    assert abs(best_threshold(p, y, prior, 20.0) - prior) < abs(best_threshold(p, y, prior, 0.0) - prior) / 5


def test_temperature_fits_overconfident_logits():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    true_logit = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.0, 2000)
    base = fit_temperature_binary(true_logit, y)
    assert fit_temperature_binary(true_logit * 3.0, y) == pytest.approx(3.0 * base, rel=0.1)  # sharpened logits cooled


def test_utterance_weights_count_an_utterance_that_many_times():
    from tagger.training.trainer import loss_fn

    g = torch.Generator().manual_seed(0)
    n = 6
    out = {
        "therapist": torch.randn(n, 3, generator=g),
        "main": torch.randn(n, 4, generator=g),
        "talk": torch.randn(n, 3, generator=g),
        "risk": torch.randn(n, generator=g),
    }
    y = {
        "therapist": torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 0]] * 2),
        "therapist_mask": torch.tensor([[1.0, 1, 1], [1, 1, 1], [0, 0, 0]] * 2),
        "main": torch.tensor([0, 2, IGNORE, 3, 1, IGNORE]),
        "talk": torch.tensor([IGNORE, IGNORE, 0, IGNORE, IGNORE, 2]),
        "risk": torch.tensor([0.0, 0, 1, 0, 0, 0]),
        "risk_mask": torch.tensor([0.0, 0, 1, 0, 0, 1]),
    }
    main_w, talk_w = torch.tensor([0.5, 1.0, 1.5, 1.0]), torch.tensor([2.0, 1.0, 0.5])
    code_w = torch.tensor([1.0, 3.0, 2.0])
    plain = loss_fn(out, y, main_w, talk_w, code_w)
    ones = loss_fn(out, y, main_w, talk_w, code_w, torch.ones(n))
    torch.testing.assert_close(ones, plain)  # weights of 1 are the unweighted loss
    torch.testing.assert_close(loss_fn(out, y, main_w, talk_w, code_w, torch.full((n,), 2.0)), 2 * plain)
    # main head alone, weight 0 on the last three utterances: their targets still count in the
    # denominator (an utterance weighs w times, not a reweighted mean)
    only_main = {
        **y, "therapist_mask": torch.zeros(n, 3), "talk": torch.full((n,), IGNORE), "risk_mask": torch.zeros(n)
    }
    got = loss_fn(out, only_main, main_w, talk_w, code_w, torch.tensor([1.0, 1, 1, 0, 0, 0]))
    nll = torch.nn.functional.cross_entropy(out["main"][:2], y["main"][:2], weight=main_w, reduction="sum")
    torch.testing.assert_close(got, nll / main_w[y["main"][[0, 1, 3, 4]]].sum())


def test_int8_export_is_quiet_and_close_to_float(tmp_path, caplog):
    """The quantizer is given a shape-inferred graph, so it logs no advice at the user."""
    import logging

    from tagger.classify.backends import OnnxEncoder, export_onnx
    from tagger.classify.base_model import resolve_base_model
    from tagger.classify.net import load_encoder

    encoder = load_encoder(resolve_base_model(), num_layers=1)
    with caplog.at_level(logging.WARNING):
        int8 = OnnxEncoder(export_onnx(encoder, tmp_path / "encoder-int8.onnx"), threads=1)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    fp32 = OnnxEncoder(export_onnx(encoder, tmp_path / "encoder-fp32.onnx", quantize=False), threads=1)
    ids = np.array([[101, 2054, 2003, 2115, 2171, 102]], dtype=np.int64)
    mask = np.ones_like(ids)
    a, b = int8(ids, mask), fp32(ids, mask)
    assert torch.nn.functional.cosine_similarity(a, b).item() > 0.95
