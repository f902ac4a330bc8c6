"""Reliability of scores read as probabilities: binned accuracy and expected calibration error."""

from __future__ import annotations

import numpy as np

__all__ = ["reliability"]


def reliability(y_true: np.ndarray, y_score: np.ndarray, *, n_bins: int = 10) -> dict:
    """Pool every (sentence, label) pair into equal-width score bins.

    ECE is the bin-size-weighted mean gap between mean score and observed
    positive rate (Guo et al. 2017).

    >>> import numpy as np
    >>> reliability(np.array([[1], [0]]), np.array([[1.0], [0.0]]))["ece"]
    0.0
    """
    truth = np.asarray(y_true, dtype=float).ravel()
    score = np.asarray(y_score, dtype=float).ravel()
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.digitize(score, edges[1:-1]), 0, n_bins - 1)
    bins, ece = [], 0.0
    for b in range(n_bins):
        mask = which == b
        count = int(mask.sum())
        if count == 0:
            continue
        mean_score, positive_rate = float(score[mask].mean()), float(truth[mask].mean())
        ece += count / len(score) * abs(mean_score - positive_rate)
        bins.append(
            {
                "low": float(edges[b]),
                "high": float(edges[b + 1]),
                "count": count,
                "mean_score": mean_score,
                "positive_rate": positive_rate,
            }
        )
    return {"ece": round(float(ece), 6), "bins": bins}
