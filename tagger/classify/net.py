"""The network: a sentence encoder per utterance, a bidirectional GRU over the session, four heads.

Each utterance is encoded once (mean-pooled transformer states), so cost grows with the
session's tokens, not with a context window re-encoded per utterance. The GRU gives every
utterance its neighbours (the client turn a reflection answers, the answer a question gets),
together with the speaker role and lexical-overlap features.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from transformers import AutoConfig, AutoModel

from tagger.classify.features import N_FEATURES
from tagger.errors import ModelError


@dataclass(frozen=True)
class NetShape:
    therapist_labels: int
    main_labels: int = 4
    talk_labels: int = 3
    gru_hidden: int = 192
    dropout: float = 0.1
    # a second risk head that reads the utterance's own input vector only (no session context),
    # trained with ``tagger train --risk-aux``; its logit is mixed into the risk head's (:func:`mix_risk`)
    risk_utterance: bool = False


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)


class ContextHeads(nn.Module):
    """Everything after the encoder: small enough to ship whole with the adapter."""

    def __init__(self, hidden: int, shape: NetShape) -> None:
        super().__init__()
        self.inp = nn.Linear(2 * hidden + N_FEATURES, hidden)
        self.gru = nn.GRU(hidden, shape.gru_hidden, batch_first=True, bidirectional=True)
        self.drop = nn.Dropout(shape.dropout)
        d = hidden + 2 * shape.gru_hidden
        self.therapist = nn.Linear(d, shape.therapist_labels)
        self.main = nn.Linear(d, shape.main_labels)
        self.talk = nn.Linear(d, shape.talk_labels)
        self.risk = nn.Linear(d, 1)
        # created last, so the other heads' initialisation does not depend on it
        self.risk_utterance = nn.Linear(hidden, 1) if shape.risk_utterance else None

    def context(
        self, pooled: torch.Tensor, prev: torch.Tensor, feats: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The utterance's own input vector (B, T, H) and the GRU's (B, T, 2 * gru_hidden), forward
        direction first."""
        x = torch.cat([pooled, pooled * prev, feats], dim=-1)
        x = torch.tanh(self.inp(self.drop(x)))
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return x, out

    def forward(
        self, pooled: torch.Tensor, prev: torch.Tensor, feats: torch.Tensor, lengths: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """pooled, prev: (B, T, H) utterance vectors and those of the previous other-speaker turn;
        feats: (B, T, F); lengths: (B,) valid steps. Returns logits per head, (B, T, ...)."""
        return self.read(*self.context(pooled, prev, feats, lengths))

    def read(self, x: torch.Tensor, out: torch.Tensor) -> dict[str, torch.Tensor]:
        """The four heads' logits from :meth:`context`'s two outputs, and ``risk_utterance`` (the
        utterance-only risk logit, unmixed) when the heads have that head."""
        h = self.drop(torch.cat([x, out], dim=-1))
        logits = {
            "therapist": self.therapist(h),
            "main": self.main(h),
            "talk": self.talk(h),
            "risk": self.risk(h).squeeze(-1),
        }
        if self.risk_utterance is not None:
            logits["risk_utterance"] = self.risk_utterance(self.drop(x)).squeeze(-1)
        return logits


def mix_risk(logits: dict, weight: float) -> dict:
    """The four heads' logits, ``risk`` being (1 - weight) * the context head's + weight * the
    utterance-only head's logit where the heads have one (``risk_utterance``, which is dropped).
    NumPy arrays or torch tensors."""
    out = {h: v for h, v in logits.items() if h != "risk_utterance"}
    if "risk_utterance" in logits:
        out["risk"] = (1.0 - weight) * logits["risk"] + weight * logits["risk_utterance"]
    return out


def load_encoder(base_dir: str | Path, num_layers: int | None = None) -> nn.Module:
    """The transformer encoder, optionally truncated to its first ``num_layers`` layers.

    Built from its config and loaded from the directory's safetensors, strictly: a weight
    missing from the files is an error, never a silent random init.
    """
    base = Path(base_dir)
    config = AutoConfig.from_pretrained(base)
    if num_layers is not None and num_layers < config.num_hidden_layers:
        config.num_hidden_layers = num_layers
    model = AutoModel.from_config(config, add_pooling_layer=False)
    files = sorted(base.glob("*.safetensors"))
    if not files:
        raise ModelError(f"{base}: no *.safetensors weights; convert the model to safetensors first")
    state: dict[str, torch.Tensor] = {}
    for f in files:
        state.update(load_file(str(f)))
    prefix = f"{model.base_model_prefix}."
    state = {k[len(prefix) :] if k.startswith(prefix) else k: v for k, v in state.items()}
    wanted = model.state_dict().keys()
    missing = [k for k in wanted if k not in state and not k.endswith("position_ids")]
    if missing:
        raise ModelError(
            f"{base}: weights lack {len(missing)} tensors of the encoder (e.g. {missing[0]}); not a matching model"
        )
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=False)
    return model.eval()


def encode(encoder: nn.Module, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    out = encoder(input_ids=input_ids, attention_mask=attention_mask)
    return mean_pool(out.last_hidden_state, attention_mask)
