"""Drift reference, bin shares, population stability index and the served-score window."""

from __future__ import annotations

import numpy as np
import pytest

from framewatch.drift import DRIFT_BINS, ScoreWindow, bin_shares, drift_reference, population_stability_index

LABELS = ["a", "b"]


def _scores(rng: np.random.Generator, n: int, a: float = 1.0, b: float = 8.0) -> np.ndarray:
    return rng.beta(a, b, size=(n, len(LABELS))).astype(np.float32)


def test_reference_bins_are_deciles_of_the_dev_scores_and_record_the_positive_rate():
    rng = np.random.default_rng(0)
    scores = _scores(rng, 5000)
    decided = scores >= 0.3
    reference = drift_reference(scores, decided, LABELS)
    assert reference.sentences == 5000
    for k, label in enumerate(LABELS):
        ref = reference.labels[label]
        assert len(ref.edges) == DRIFT_BINS - 1 and len(ref.shares) == DRIFT_BINS
        assert ref.shares == pytest.approx([0.1] * DRIFT_BINS, abs=0.002)
        assert ref.positive_rate == pytest.approx(decided[:, k].mean(), abs=1e-6)


def test_bins_are_right_closed():
    assert bin_shares(np.array([0.1, 0.2, 0.3]), [0.2]).tolist() == pytest.approx([2 / 3, 1 / 3])


def test_psi_is_near_zero_for_the_same_distribution_and_large_for_a_shifted_one():
    rng = np.random.default_rng(1)
    reference = drift_reference(_scores(rng, 5000), np.zeros((5000, 2), bool), LABELS).labels["a"]
    same = bin_shares(_scores(rng, 3000)[:, 0], reference.edges)
    shifted = bin_shares(_scores(rng, 3000, a=4.0, b=4.0)[:, 0], reference.edges)
    assert population_stability_index(reference.shares, same) < 0.02
    assert population_stability_index(reference.shares, shifted) > 0.5


def test_window_keeps_only_the_most_recent_sentences():
    window = ScoreWindow(capacity=4, n_labels=1)
    for value in range(6):
        window.add(np.array([[value]], np.float32), np.array([[value % 2 == 0]]))
    scores, decided = window.snapshot()
    assert len(window) == 4
    assert sorted(scores[:, 0].tolist()) == [2, 3, 4, 5]
    window.add(np.arange(10, dtype=np.float32)[:, None], np.zeros((10, 1), bool))  # more than the capacity at once
    assert sorted(window.snapshot()[0][:, 0].tolist()) == [6, 7, 8, 9]
