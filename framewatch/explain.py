"""Evidence for a flag: which words of a sentence carry the label's score.

Word-level occlusion: each word (or, in a very long sentence, each group of
neighbouring words) is deleted in turn, every variant is scored in one batched
call, and a word's weight for a label is how far the score falls without it.
It needs only forward passes, so the server's model worker, ``framewatch
predict --explain`` and the faithfulness test all run it through the scorer they
already have; integrated gradients would cost about one backward pass per step
and label.

The work is split in two so the caller decides how variants reach the model:
:func:`plan_occlusion` lists the variants of one text, :func:`evidence_for`
turns their scores into weighted spans. :func:`explain_texts` joins them for a
synchronous scorer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from framewatch.text import is_blank

__all__ = [
    "MAX_OCCLUSIONS_PER_TEXT",
    "TOP_EVIDENCE_WORDS",
    "Evidence",
    "OcclusionPlan",
    "evidence_for",
    "explain_texts",
    "labels_on",
    "plan_occlusion",
    "word_spans",
]

MAX_OCCLUSIONS_PER_TEXT = 256
"""Variants scored per text at most; a longer text is occluded in groups of neighbouring words.

It bounds the work one explanation adds to the model worker's queue."""

TOP_EVIDENCE_WORDS = 5
"""Spans returned per flagged label, highest weight first (only spans whose deletion lowers the score)."""

_WORD = re.compile(r"\w+(?:['’\-]\w+)*")


@dataclass(frozen=True)
class Evidence:
    """A span of the submitted text that supports a label, and how much the score falls without it."""

    start: int
    end: int
    text: str
    weight: float


@dataclass(frozen=True)
class OcclusionPlan:
    """The variants of one text: ``spans[i]`` deleted gives ``variants[i]`` (``None`` when nothing would remain)."""

    spans: list[tuple[int, int]]
    variants: list[str | None]

    @property
    def texts_to_score(self) -> list[str]:
        return [v for v in self.variants if v is not None]


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the words of ``text`` (punctuation and spaces are not words)."""
    return [m.span() for m in _WORD.finditer(text)]


def _grouped(spans: list[tuple[int, int]], limit: int) -> list[tuple[int, int]]:
    if len(spans) <= limit:
        return spans
    size = math.ceil(len(spans) / limit)
    return [(spans[i][0], spans[min(i + size, len(spans)) - 1][1]) for i in range(0, len(spans), size)]


def plan_occlusion(text: str, *, max_occlusions: int = MAX_OCCLUSIONS_PER_TEXT) -> OcclusionPlan:
    """One variant per word of ``text`` with that word deleted (groups of words past ``max_occlusions``)."""
    spans = _grouped(word_spans(text), max_occlusions)
    variants: list[str | None] = []
    for start, end in spans:
        variant = text[:start] + text[end:]
        variants.append(None if is_blank(variant) else variant)
    return OcclusionPlan(spans, variants)


def labels_on(row_on: Sequence[bool], label_ids: Sequence[str]) -> list[tuple[int, str]]:
    """``(column, label_id)`` of the labels a decision row carries."""
    return [(k, label) for k, label in enumerate(label_ids) if row_on[k]]


def evidence_for(
    text: str,
    plan: OcclusionPlan,
    variant_scores: np.ndarray,
    base_scores: np.ndarray,
    on: Sequence[tuple[int, str]],
    *,
    offset: int = 0,
    top: int = TOP_EVIDENCE_WORDS,
) -> dict[str, list[Evidence]]:
    """Weighted spans per label in ``on`` (``(column, label_id)`` pairs, see :func:`labels_on`), offsets shifted.

    ``variant_scores`` holds one row per entry of ``plan.texts_to_score``. A
    variant with nothing left scores 0: deleting the only word removes the frame.
    """
    rows = np.zeros((len(plan.variants), base_scores.shape[-1]), dtype=np.float32)
    scored = [i for i, v in enumerate(plan.variants) if v is not None]
    if scored:
        rows[scored] = variant_scores
    drops = base_scores[None, :] - rows
    evidence: dict[str, list[Evidence]] = {}
    for column, label in on:
        order = np.argsort(-drops[:, column], kind="stable")[:top]
        evidence[label] = [
            Evidence(
                start=plan.spans[i][0] + offset,
                end=plan.spans[i][1] + offset,
                text=text[plan.spans[i][0] : plan.spans[i][1]],
                weight=round(float(drops[i, column]), 6),
            )
            for i in order.tolist()
            if drops[i, column] > 0
        ]
    return evidence


def explain_texts(
    score: Callable[[list[str]], np.ndarray],
    texts: Sequence[str],
    scores: np.ndarray,
    decided: np.ndarray,
    label_ids: Sequence[str],
    *,
    top: int = TOP_EVIDENCE_WORDS,
) -> list[dict[str, list[Evidence]]]:
    """Evidence for every label on in ``decided``, one scorer call per flagged text; ``{}`` for texts not flagged."""
    out: list[dict[str, list[Evidence]]] = []
    for text, row_scores, row_on in zip(texts, scores, decided):
        on = labels_on(row_on, label_ids)
        if not on:
            out.append({})
            continue
        plan = plan_occlusion(text)
        variant_scores = score(plan.texts_to_score) if plan.texts_to_score else np.zeros((0, len(label_ids)))
        out.append(evidence_for(text, plan, variant_scores, row_scores, on, top=top))
    return out
