"""Splitting an article into sentences with character offsets, losing nothing.

pysbd handles abbreviations, quotes and decimals that a regex gets wrong, but a
``pysbd.Segmenter`` keeps the text it is working on as instance state, so one
instance shared between threads mixes up concurrent articles: each thread gets
its own. pysbd only proposes where sentences *start*; the spans are then cut
from the caller's string between consecutive starts, so every non-blank
character of the article lands in exactly one sentence whatever pysbd returns.
Where pysbd's pieces cannot be located in the text at all, a plain split at
sentence-final punctuation takes over. Offsets index the caller's original
string, whitespace trimmed, so a client can highlight ``text[start:end]``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import pysbd

from framewatch.text import is_blank

__all__ = ["SentenceSpan", "split_sentences"]

_PLAIN_BOUNDARY = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")
_local = threading.local()


@dataclass(frozen=True)
class SentenceSpan:
    text: str
    start: int
    end: int


def _segmenter() -> pysbd.Segmenter:
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    return segmenter


def _pysbd_starts(text: str) -> list[int] | None:
    """Where pysbd's sentences begin in ``text``, or None when its pieces cannot all be located in order."""
    starts: list[int] = []
    cursor = 0
    for piece in _segmenter().segment(text):
        stripped = piece.strip()
        if not stripped:
            continue
        found = text.find(stripped, cursor)
        if found < 0:
            return None
        starts.append(found)
        cursor = found + len(stripped)
    return starts


def _plain_starts(text: str) -> list[int]:
    return [0, *(match.end() for match in _PLAIN_BOUNDARY.finditer(text))]


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentences of ``text``, each with ``text[start:end] == sentence``, covering every non-blank character."""
    if is_blank(text):
        return []
    starts = _pysbd_starts(text)
    if not starts:
        starts = _plain_starts(text)
    cuts = sorted({0, *starts, len(text)})
    spans = []
    for begin, finish in zip(cuts, cuts[1:]):
        raw = text[begin:finish]
        if is_blank(raw):
            continue
        start = begin + len(raw) - len(raw.lstrip())
        end = begin + len(raw.rstrip())
        spans.append(SentenceSpan(text[start:end], start, end))
    return spans
