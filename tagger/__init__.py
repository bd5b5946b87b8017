"""tagger: utterance-level psychotherapy intervention tagging and evidence-linked notes."""

from tagger.types import Session, Tag, TaggedUtterance, Utterance

__all__ = ["Session", "Tag", "TaggedUtterance", "Utterance"]
__version__ = "0.1.0"
