"""Class-imbalance aware multi-label loss."""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["WeightedBCELoss", "positive_weights"]


def positive_weights(targets: np.ndarray, cap: float) -> np.ndarray:
    """negatives/positives per label, clipped to [1, cap].

    Framing labels are rare; without this the model learns to predict "none".
    The cap keeps a label with a handful of positives from dominating the loss.
    """
    positives = targets.sum(axis=0)
    negatives = len(targets) - positives
    ratio = np.where(positives > 0, negatives / np.maximum(positives, 1), 1.0)
    return np.clip(ratio, 1.0, cap).astype(np.float32)


class WeightedBCELoss:
    """``compute_loss_func`` for transformers' Trainer: BCE with per-label ``pos_weight``."""

    def __init__(self, pos_weight: np.ndarray | None):
        self.pos_weight = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32)

    def __call__(self, outputs, labels: torch.Tensor, num_items_in_batch=None) -> torch.Tensor:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs.logits
        weight = None if self.pos_weight is None else self.pos_weight.to(logits.device)
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits.float(), labels.to(logits.device).float(), pos_weight=weight
        )
