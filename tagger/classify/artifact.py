"""The shipped model artifact: a small adapter over an offline base encoder.

Directory layout::

    config.json          labels, thresholds, temperatures, fusion weights, base model and its sha256,
                         training record
    adapter.safetensors  LoRA matrices + sequence layer + heads (float16)
    lexical.json/.npz    the TF-IDF + logistic-regression model fused with the network (when ``fusion``
                         gives it a weight; see :mod:`tagger.classify.lexical`)
    README.md            model card

A missing, partial or mismatched artifact raises :class:`ModelError`; nothing falls back to
random weights.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from tagger.classify.base_model import resolve_base_model, weights_digest
from tagger.classify.labels import LabelSpace
from tagger.classify.lexical import LexicalModel
from tagger.classify.lora import LoRALinear, inject_lora, merge_lora
from tagger.classify.net import ContextHeads, NetShape, load_encoder
from tagger.errors import ModelError

ARTIFACT_FORMAT = 1
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "tagger-minilm"


@dataclass(frozen=True)
class ModelConfig:
    name: str
    base_model: str
    base_model_sha256: str
    therapist_labels: tuple[str, ...]
    main_labels: tuple[str, ...]
    talk_labels: tuple[str, ...]
    num_layers: int | None = None
    lora_r: int = 8
    lora_alpha: float = 16.0
    lora_layers: int | None = None  # adapters on the top N layers only (None: all)
    max_tokens: int = 96
    gru_hidden: int = 192
    thresholds: dict[str, float] = field(default_factory=dict)
    temperatures: dict[str, float] = field(default_factory=dict)
    fusion: dict[str, float] = field(default_factory=dict)  # lexical model's weight per head; {}: network only
    risk_utterance: bool = False  # the heads include the utterance-only risk head (see NetShape)
    risk_mix: float = 0.0  # its weight in the risk logit (net.mix_risk), fitted on calib
    review_margin: float = 0.1
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    format: int = ARTIFACT_FORMAT

    @property
    def labels(self) -> LabelSpace:
        return LabelSpace(self.therapist_labels, self.main_labels, self.talk_labels)

    @property
    def shape(self) -> NetShape:
        return NetShape(
            len(self.therapist_labels),
            len(self.main_labels),
            len(self.talk_labels),
            self.gru_hidden,
            risk_utterance=self.risk_utterance,
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        d = json.loads(text)
        for k in ("therapist_labels", "main_labels", "talk_labels"):
            d[k] = tuple(d[k])
        return cls(**d)


@dataclass
class LoadedModel:
    config: ModelConfig
    encoder: nn.Module
    heads: ContextHeads
    base_dir: Path
    artifact_dir: Path
    lexical: LexicalModel | None = None


def build_trainable(
    base_model: str | Path,
    labels: LabelSpace,
    *,
    num_layers: int | None,
    lora_r: int,
    lora_alpha: float,
    gru_hidden: int,
    dropout: float = 0.1,
    lora_layers: int | None = None,
    risk_utterance: bool = False,
) -> tuple[nn.Module, ContextHeads, Path]:
    base_dir = resolve_base_model(base_model)
    encoder = load_encoder(base_dir, num_layers)
    for p in encoder.parameters():
        p.requires_grad_(False)
    layers = encoder.encoder.layer
    # adapters on the top layers only: backward stops there, so training is much cheaper
    inject_lora(layers if lora_layers is None else layers[len(layers) - lora_layers :], lora_r, lora_alpha, dropout)
    shape = NetShape(len(labels.therapist), len(labels.main), len(labels.talk), gru_hidden, dropout, risk_utterance)
    heads = ContextHeads(encoder.config.hidden_size, shape)
    return encoder, heads, base_dir


def adapter_state(encoder: nn.Module, heads: ContextHeads) -> dict[str, torch.Tensor]:
    state = {f"encoder.{k}": v for k, v in encoder.state_dict().items() if ".lora_" in k}
    state.update({f"heads.{k}": v for k, v in heads.state_dict().items()})
    return {k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}


def save_artifact(
    out_dir: Path, config: ModelConfig, encoder: nn.Module, heads: ContextHeads, lexical: LexicalModel | None = None
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(adapter_state(encoder, heads), str(out_dir / "adapter.safetensors"))
    for stale in ("lexical.json", "lexical.npz"):
        (out_dir / stale).unlink(missing_ok=True)
    if lexical is not None:
        lexical.save(out_dir)
    (out_dir / "config.json").write_text(config.to_json() + "\n", encoding="utf-8")
    return out_dir


def load_artifact(
    model_dir: str | Path | None = None, *, base_model: str | Path | None = None, check_digest: bool = True
) -> LoadedModel:
    """Load an artifact for inference (LoRA merged into the encoder weights).

    ``base_model`` overrides where the base encoder is found (a local directory); its weights
    must still match the sha256 the adapter was trained on.
    """
    d = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    cfg_path, w_path = d / "config.json", d / "adapter.safetensors"
    if not cfg_path.is_file() or not w_path.is_file():
        raise ModelError(
            f"no model installed at {d} (needs config.json and adapter.safetensors); "
            "train one with `tagger train` or pass --model DIR"
        )
    try:
        config = ModelConfig.from_json(cfg_path.read_text(encoding="utf-8"))
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelError(f"{cfg_path}: not a tagger model config ({exc})") from None
    if config.format != ARTIFACT_FORMAT:
        raise ModelError(
            f"{d}: artifact format {config.format}, this tagger reads format {ARTIFACT_FORMAT}; retrain or upgrade"
        )
    base_dir = resolve_base_model(base_model or config.base_model)
    if check_digest and weights_digest(base_dir) != config.base_model_sha256:
        raise ModelError(
            f"base encoder at {base_dir} differs from the one this adapter was trained on "
            f"(sha256 {config.base_model_sha256[:12]}...); install the matching base or retrain"
        )
    encoder, heads, _ = build_trainable(
        base_dir,
        config.labels,
        num_layers=config.num_layers,
        lora_r=config.lora_r,
        lora_alpha=config.lora_alpha,
        gru_hidden=config.gru_hidden,
        lora_layers=config.lora_layers,
        risk_utterance=config.risk_utterance,
    )
    state = load_file(str(w_path))
    enc_state = {k[len("encoder.") :]: v.float() for k, v in state.items() if k.startswith("encoder.")}
    head_state = {k[len("heads.") :]: v.float() for k, v in state.items() if k.startswith("heads.")}
    lora_keys = {k for k, m in encoder.named_modules() if isinstance(m, LoRALinear)}
    if len(enc_state) != 2 * len(lora_keys):
        raise ModelError(f"{w_path}: has {len(enc_state)} adapter tensors, the encoder needs {2 * len(lora_keys)}")
    missing, unexpected = encoder.load_state_dict(enc_state, strict=False)
    if unexpected or any(".lora_" in k for k in missing):
        raise ModelError(f"{w_path}: adapter does not fit the encoder ({(unexpected or missing)[0]})")
    try:
        heads.load_state_dict(head_state, strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{w_path}: heads do not fit this config: {exc}") from None
    merge_lora(encoder)
    lexical = None
    if any(w > 0 for w in config.fusion.values()):
        if not (d / "lexical.json").is_file():
            raise ModelError(f"{d}: config.json fuses a lexical model but lexical.json/.npz are missing; retrain")
        lexical = LexicalModel.load(d)
    return LoadedModel(config, encoder.eval(), heads.eval(), base_dir, d, lexical)
