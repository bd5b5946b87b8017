"""Where a turn's sentences lie among the turn's tokens, so their vectors can be pooled from the turn's
own encoding instead of encoding every sentence a second time."""

from __future__ import annotations

from collections.abc import Sequence


def sentence_token_spans(
    text: str, sentences: Sequence[str], offsets: Sequence[tuple[int, int]]
) -> list[tuple[int, int]] | None:
    """``(start, stop)`` token positions of each sentence, in order, from a fast tokenizer's character
    ``offsets`` of ``text`` (special tokens have empty offsets). None when a sentence is not found in
    the text (in order) or holds no token: the caller then encodes the sentences on their own."""
    out = []
    cursor = 0
    for sentence in sentences:
        begin = text.find(sentence, cursor)
        if begin < 0 or not sentence:
            return None
        end = begin + len(sentence)
        inside = [t for t, (a, b) in enumerate(offsets) if b > a and a >= begin and b <= end]
        if not inside or inside[-1] - inside[0] + 1 != len(inside):
            return None
        out.append((inside[0], inside[-1] + 1))
        cursor = end
    return out
