"""PNG figures of an evaluation: precision-recall curves, label co-occurrence, reliability diagram."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from framewatch.thresholds import decide  # noqa: E402

__all__ = ["cooccurrence_matrix", "plot_cooccurrence", "plot_pr_curves", "plot_reliability"]


def plot_pr_curves(
    y_true: np.ndarray, y_score: np.ndarray, label_ids: Sequence[str], thresholds: np.ndarray, path: Path
) -> None:
    """One panel per label, the operating point at its decision threshold marked."""
    fig, axes = plt.subplots(1, len(label_ids), figsize=(4.2 * len(label_ids), 4), squeeze=False)
    for k, (label, ax) in enumerate(zip(label_ids, axes[0])):
        if y_true[:, k].min() == y_true[:, k].max():
            ax.set_title(f"{label}\n(one class only)")
            continue
        precision, recall, cuts = precision_recall_curve(y_true[:, k], y_score[:, k])
        ax.plot(recall, precision, lw=2)
        predicted = decide(y_score[:, k], thresholds[k])
        tp = float((predicted & (y_true[:, k] == 1)).sum())
        p_at = tp / max(predicted.sum(), 1)
        r_at = tp / max(y_true[:, k].sum(), 1)
        ax.scatter([r_at], [p_at], color="crimson", zorder=3, label=f"threshold {thresholds[k]:.2f}")
        ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02), title=label)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cooccurrence_matrix(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Rows: gold labels plus 'none'; columns: predicted labels plus 'none'; cells: sentence counts."""
    n = y_true.shape[1]
    gold = np.hstack([y_true, (y_true.sum(axis=1) == 0)[:, None]]).astype(int)
    pred = np.hstack([y_pred, (y_pred.sum(axis=1) == 0)[:, None]]).astype(int)
    matrix = gold.T @ pred
    assert matrix.shape == (n + 1, n + 1)
    return matrix


def plot_cooccurrence(y_true: np.ndarray, y_pred: np.ndarray, label_ids: Sequence[str], path: Path) -> None:
    names = [*label_ids, "none"]
    matrix = cooccurrence_matrix(y_true, y_pred)
    fig, ax = plt.subplots(figsize=(1.6 * len(names) + 2, 1.3 * len(names) + 1.5))
    image = ax.imshow(matrix, cmap="Blues")
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                color="white" if matrix[i, j] > matrix.max() / 2 else "black",
            )
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set(xlabel="predicted", ylabel="gold", title="Sentences by gold label x predicted label")
    fig.colorbar(image, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_reliability(calibration: dict, path: Path) -> None:
    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.8, 4.5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfect calibration")
    centers = [(b["low"] + b["high"]) / 2 for b in bins]
    ax.bar(centers, [b["positive_rate"] for b in bins], width=0.09, alpha=0.7, label="observed positive rate")
    ax.plot(
        [b["mean_score"] for b in bins],
        [b["positive_rate"] for b in bins],
        "o-",
        color="crimson",
        label="mean score vs rate",
    )
    ax.set(
        xlabel="score",
        ylabel="fraction positive",
        xlim=(0, 1),
        ylim=(0, 1),
        title=f"Reliability (all labels), ECE {calibration['ece']:.3f}",
    )
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
