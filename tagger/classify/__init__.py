"""The intervention classifier: artifact loading, batched inference backends, decisions."""

from __future__ import annotations

from pathlib import Path

from tagger.classify.engine import Classifier, EngineOptions, SessionScores


def load_classifier(
    model_dir: str | Path | None = None,
    *,
    base_model: str | Path | None = None,
    options: EngineOptions | None = None,
) -> Classifier:
    """Load a model directory (default: the shipped ``models/tagger-minilm``)."""
    return Classifier.load(model_dir, base_model=base_model, options=options or EngineOptions())


__all__ = ["Classifier", "EngineOptions", "SessionScores", "load_classifier"]
