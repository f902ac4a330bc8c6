"""Per-label decision thresholds: the decision rule, and how thresholds are tuned on dev.

The rule "a label is on when its score reaches its threshold" is :func:`decide`,
and every caller (training, evaluation, the predictor, the server) uses it.

A single 0.5 cut-off suits few labels: rare labels usually need a lower one.
``tune_f1`` gives each label the threshold that maximises its own dev F1 on a
grid; ``min_precision`` the lowest threshold whose dev precision reaches a
target, which keeps false alarms rare where frames are rare (real text). Ties
go to the value closest to the configured default so thresholds stay stable
run to run.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import f1_score, precision_score

from framewatch.config import ThresholdConfig

__all__ = ["decide", "threshold_row", "tune_thresholds"]


def decide(scores: np.ndarray, thresholds: np.ndarray | Sequence[float]) -> np.ndarray:
    """Boolean label matrix: a label is on when its score reaches (>=) its threshold."""
    return np.asarray(scores) >= np.asarray(thresholds)


def threshold_row(thresholds: dict[str, float], label_ids: Sequence[str]) -> np.ndarray:
    """Per-label thresholds as an array in the schema's label order."""
    return np.array([thresholds[label] for label in label_ids], dtype=np.float32)


def tune_thresholds(
    y_true: np.ndarray, y_score: np.ndarray, label_ids: Sequence[str], policy: ThresholdConfig
) -> dict[str, float]:
    """Choose one threshold per label.

    >>> import numpy as np
    >>> from framewatch.config import ThresholdConfig
    >>> t = np.array([[1], [1], [0], [0]]); s = np.array([[.4], [.35], [.2], [.1]])
    >>> tune_thresholds(t, s, ["a"], ThresholdConfig())["a"] <= 0.35
    True
    >>> t = np.array([[1], [0], [1], [0]]); s = np.array([[.9], [.6], [.5], [.1]])
    >>> tune_thresholds(t, s, ["a"], ThresholdConfig(policy="min_precision", min_precision=1.0))["a"]
    0.61
    """
    if policy.policy == "fixed":
        return {label: policy.default for label in label_ids}
    grid = np.round(np.arange(policy.min, policy.max + 1e-9, 0.01), 2)
    thresholds = {}
    for k, label in enumerate(label_ids):
        if y_true[:, k].sum() == 0:
            thresholds[label] = policy.default
            continue
        f1s = np.array([f1_score(y_true[:, k], decide(y_score[:, k], t), zero_division=0) for t in grid])
        best = np.flatnonzero(np.isclose(f1s, f1s.max()))
        if policy.policy == "min_precision":
            precise = np.flatnonzero(
                [
                    precision_score(y_true[:, k], decide(y_score[:, k], t), zero_division=0) >= policy.min_precision
                    for t in grid
                ]
            )
            if len(precise):
                thresholds[label] = float(grid[precise[0]])
                continue
        choice = best[np.argmin(np.abs(grid[best] - policy.default))]
        thresholds[label] = float(grid[choice])
    return thresholds
