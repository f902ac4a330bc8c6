"""Fitting the neighbour evidence of :class:`~framewatch.modeling.MeanPoolingClassifier` (``model.neighbours``).

The memory is the training sentences' unit-length vectors and their labels. The
evidence (nearest positives minus nearest negatives) is a difference of cosines,
not a logit, so each label gets a one-variable logistic regression on the dev
split, the split whose realistic frame rate the thresholds are tuned on too,
before it is mixed into the head's logit.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from framewatch.modeling import MeanPoolingClassifier, neighbour_evidence

__all__ = ["fit_neighbours"]

logger = logging.getLogger("framewatch.train")


def fit_neighbours(
    model: MeanPoolingClassifier,
    train_vectors: torch.Tensor,
    train_targets: np.ndarray,
    dev_vectors: torch.Tensor,
    dev_targets: np.ndarray,
    *,
    k: int,
    weight: float,
) -> None:
    """Install the training vectors as the model's memory, calibrated per label on the dev vectors."""
    memory_labels = torch.as_tensor(train_targets, dtype=torch.float32)
    evidence = neighbour_evidence(dev_vectors.float(), train_vectors.float(), memory_labels, k).numpy()
    scale, bias = np.zeros(train_targets.shape[1]), np.zeros(train_targets.shape[1])
    for label in range(train_targets.shape[1]):
        target = dev_targets[:, label]
        if target.min() == target.max():  # one class only: no calibration to learn, neutral evidence
            continue
        fit = LogisticRegression(C=1.0).fit(evidence[:, [label]], target)
        scale[label], bias[label] = fit.coef_[0, 0], fit.intercept_[0]
    model.set_neighbours(
        train_vectors,
        memory_labels,
        torch.as_tensor(scale, dtype=torch.float32),
        torch.as_tensor(bias, dtype=torch.float32),
        k=k,
        weight=weight,
    )
    logger.info(
        "neighbours: %d training sentences, k=%d, weight %.2f; evidence scale per label %s",
        len(train_vectors),
        k,
        weight,
        np.round(scale, 2).tolist(),
    )
