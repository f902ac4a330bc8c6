"""Score drift: is the text being served still like the text the thresholds were tuned on?

A checkpoint stores, from its dev split, each label's positive rate and the
decile edges of its scores (:func:`drift_reference`). A server keeps the scores
of its most recent sentences (:class:`ScoreWindow`) and compares the share of
them in each reference bin with the reference's own share, as a population
stability index per label (:func:`population_stability_index`).

Bins are the reference's deciles rather than equal widths: sigmoid scores pile
up near 0, and equal-width bins would put nearly all of them in the first bin,
where no shift could be seen.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

__all__ = [
    "DRIFT_BINS",
    "DriftReference",
    "LabelReference",
    "ScoreWindow",
    "bin_shares",
    "drift_reference",
    "population_stability_index",
]

DRIFT_BINS = 10
"""Bins per label: the reference's deciles."""

_SHARE_FLOOR = 1e-4  # an empty bin would make the index infinite


class LabelReference(BaseModel):
    positive_rate: float = Field(description="Share of dev sentences at or above the label's threshold.")
    edges: list[float] = Field(description="Inner bin edges (deciles of the dev scores); bins are right-closed.")
    shares: list[float] = Field(description="Share of dev sentences in each bin.")


class DriftReference(BaseModel):
    """What a checkpoint remembers of its dev scores, to compare served scores against."""

    sentences: int
    labels: dict[str, LabelReference]


def bin_shares(scores: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """Share of ``scores`` in each bin cut at ``edges`` (right-closed: a score equal to an edge falls below it)."""
    counts = np.bincount(np.searchsorted(np.asarray(edges), scores, side="left"), minlength=len(edges) + 1)
    return counts / max(len(scores), 1)


def drift_reference(scores: np.ndarray, decided: np.ndarray, label_ids: Sequence[str]) -> DriftReference:
    """The reference of a checkpoint: per label, dev positive rate, decile edges and the shares between them."""
    labels = {}
    for k, label in enumerate(label_ids):
        column = scores[:, k]
        edges = np.unique(np.quantile(column, np.linspace(0, 1, DRIFT_BINS + 1)[1:-1])).round(6)
        labels[label] = LabelReference(
            positive_rate=round(float(decided[:, k].mean()), 6),
            edges=edges.tolist(),
            shares=bin_shares(column, edges).round(6).tolist(),
        )
    return DriftReference(sentences=int(scores.shape[0]), labels=labels)


def population_stability_index(expected: Sequence[float], actual: Sequence[float]) -> float:
    """``sum((actual - expected) * ln(actual / expected))`` over bins, shares floored at 1e-4.

    Common reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a large one.
    """
    e = np.maximum(np.asarray(expected, dtype=np.float64), _SHARE_FLOOR)
    a = np.maximum(np.asarray(actual, dtype=np.float64), _SHARE_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


class ScoreWindow:
    """The scores and decisions of the last ``capacity`` sentences served (a ring buffer, thread-safe)."""

    def __init__(self, capacity: int, n_labels: int):
        self.capacity = capacity
        self._scores = np.zeros((capacity, n_labels), dtype=np.float32)
        self._decided = np.zeros((capacity, n_labels), dtype=bool)
        self._next = 0
        self._filled = 0
        self._lock = threading.Lock()

    def add(self, scores: np.ndarray, decided: np.ndarray) -> None:
        scores, decided = scores[-self.capacity :], decided[-self.capacity :]
        with self._lock:
            rows = (self._next + np.arange(len(scores))) % self.capacity
            self._scores[rows] = scores
            self._decided[rows] = decided
            self._next = (self._next + len(scores)) % self.capacity
            self._filled = min(self._filled + len(scores), self.capacity)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the scores and decisions held now (oldest first is not guaranteed; order does not matter)."""
        with self._lock:
            return self._scores[: self._filled].copy(), self._decided[: self._filled].copy()

    def __len__(self) -> int:
        return self._filled
