"""Low-rank adapters on the encoder's linear layers: trained small, merged for inference."""

from __future__ import annotations

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """``base(x) + scale * x A^T B^T`` with ``A`` (r x in) and ``B`` (out x r); ``B`` starts at zero."""

    def __init__(self, base: nn.Linear, r: int, alpha: float, dropout: float = 0.0) -> None:
        super().__init__()
        self.base = base
        self.base.weight.requires_grad_(False)
        if self.base.bias is not None:
            self.base.bias.requires_grad_(False)
        self.lora_a = nn.Parameter(torch.empty(r, base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, r))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / r
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (self.drop(x) @ self.lora_a.t() @ self.lora_b.t()) * self.scale

    def merged(self) -> nn.Linear:
        lin = nn.Linear(self.base.in_features, self.base.out_features, bias=self.base.bias is not None)
        with torch.no_grad():
            lin.weight.copy_(self.base.weight + self.scale * (self.lora_b @ self.lora_a))
            if self.base.bias is not None:
                lin.bias.copy_(self.base.bias)
        return lin


def _linear_children(root: nn.Module) -> list[tuple[nn.Module, str, nn.Linear]]:
    found = []
    for module in root.modules():
        for name, child in module.named_children():
            if isinstance(child, nn.Linear):
                found.append((module, name, child))
    return found


def inject_lora(encoder_layers: nn.Module, r: int, alpha: float, dropout: float = 0.0) -> int:
    """Wrap every nn.Linear under ``encoder_layers`` in a LoRALinear; returns how many."""
    n = 0
    for parent, name, child in _linear_children(encoder_layers):
        setattr(parent, name, LoRALinear(child, r, alpha, dropout))
        n += 1
    return n


def merge_lora(root: nn.Module) -> int:
    """Replace each LoRALinear by a plain Linear holding the merged weight."""
    n = 0
    for module in list(root.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, LoRALinear):
                setattr(module, name, child.merged())
                n += 1
    return n
