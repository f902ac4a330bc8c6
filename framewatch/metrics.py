"""Multi-label classification metrics, all computed by scikit-learn.

Computed once into plain dicts; rendering (Markdown, JSON, model card) is done
elsewhere from the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    f1_score,
    precision_recall_fscore_support,
    roc_auc_score,
)

__all__ = ["bootstrap_intervals", "classification_metrics", "macro_f1_score"]


def _safe_ranking_score(metric, y_true: np.ndarray, y_score: np.ndarray) -> float | None:
    """ROC-AUC and AP are undefined when a label has only one class in the sample."""
    if y_true.min() == y_true.max():
        return None
    return float(metric(y_true, y_score))


def macro_f1_score(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    return float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray, label_ids: Sequence[str]
) -> dict[str, Any]:
    """Per-label and averaged metrics for multi-label indicator matrices.

    >>> import numpy as np
    >>> t = np.array([[1, 0], [0, 1], [1, 1]]); s = np.array([[.9, .2], [.3, .8], [.7, .4]])
    >>> m = classification_metrics(t, s >= .5, s, ["a", "b"])
    >>> m["per_label"]["a"]["f1"], m["per_label"]["b"]["recall"]
    (1.0, 0.5)
    """
    y_true = np.asarray(y_true).astype(int)
    y_pred = np.asarray(y_pred).astype(int)
    y_score = np.asarray(y_score, dtype=float)
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    per_label = {}
    for k, label in enumerate(label_ids):
        per_label[label] = {
            "precision": float(precision[k]),
            "recall": float(recall[k]),
            "f1": float(f1[k]),
            "support": int(support[k]),
            "roc_auc": _safe_ranking_score(roc_auc_score, y_true[:, k], y_score[:, k]),
            "average_precision": _safe_ranking_score(average_precision_score, y_true[:, k], y_score[:, k]),
        }
    averages = {}
    for average in ("micro", "macro"):
        p, r, f, _ = precision_recall_fscore_support(y_true, y_pred, average=average, zero_division=0)
        averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    return {
        "n": int(len(y_true)),
        "per_label": per_label,
        "micro": averages["micro"],
        "macro": averages["macro"],
        "exact_match": float(accuracy_score(y_true, y_pred)),
    }


def bootstrap_intervals(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray,
    label_ids: Sequence[str],
    *,
    n_samples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, tuple[float, float]]]:
    """Percentile bootstrap intervals over sentences (resampled with replacement).

    Returns ``{scope: {metric: (low, high)}}`` where scope is a label id,
    ``micro`` or ``macro``.
    """
    rng = np.random.default_rng(seed)
    n = len(y_true)
    draws: dict[str, dict[str, list[float]]] = {}
    for _ in range(n_samples):
        idx = rng.integers(0, n, n)
        m = classification_metrics(y_true[idx], y_pred[idx], y_score[idx], label_ids)
        scopes = {**m["per_label"], "micro": m["micro"], "macro": m["macro"]}
        for scope, values in scopes.items():
            for metric, value in values.items():
                if metric != "support" and value is not None:
                    draws.setdefault(scope, {}).setdefault(metric, []).append(value)
    alpha = (1 - confidence) / 2
    return {
        scope: {
            metric: (float(np.quantile(v, alpha)), float(np.quantile(v, 1 - alpha))) for metric, v in metrics.items()
        }
        for scope, metrics in draws.items()
    }
