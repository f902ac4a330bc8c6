"""Splitting an article into sentences with character offsets.

pysbd handles abbreviations, quotes and decimals that a regex gets wrong. The
offsets index the caller's original string, whitespace trimmed, so a client can
highlight ``text[start:end]`` directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pysbd

__all__ = ["SentenceSpan", "split_sentences"]


@dataclass(frozen=True)
class SentenceSpan:
    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentences of ``text`` with ``text[start:end] == sentence``; blank pieces are dropped."""
    spans = []
    cursor = 0
    for piece in _segmenter().segment(text):
        start, end = piece.start, piece.end
        if text[start:end] != piece.sent:  # guard against offset drift: locate the piece ourselves
            start = text.find(piece.sent, cursor)
            if start < 0:
                continue
            end = start + len(piece.sent)
        raw = text[start:end]
        stripped = raw.strip()
        if not stripped:
            continue
        start += len(raw) - len(raw.lstrip())
        end = start + len(stripped)
        spans.append(SentenceSpan(stripped, start, end))
        cursor = end
    return spans
