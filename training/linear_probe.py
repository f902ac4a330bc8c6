"""Initialising the classification head as a linear probe before fine-tuning (LP-FT).

A randomly initialised head sends large, arbitrary gradients into the encoder
during the first steps of fine-tuning and pulls its features towards whatever
separates the training data, written data included (Kumar et al., 2022,
"Fine-Tuning can Distort Pretrained Features"). Fitting the head first, as an
L2-regularised logistic regression on the frozen encoder's sentence vectors,
starts fine-tuning at a solution that already uses the pretrained features, so
far less of them has to move.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from framewatch.modeling import MeanPoolingClassifier
from framewatch.training import distributed

__all__ = ["fit_linear_probe", "sentence_vectors"]

logger = logging.getLogger("framewatch.train")


@torch.no_grad()
def sentence_vectors(
    model: MeanPoolingClassifier, tokenizer, texts: Sequence[str], *, max_length: int, batch_size: int = 128
) -> torch.Tensor:
    """The frozen encoder's pooled vectors for ``texts`` in input order, encoded in length-sorted batches.

    Under torchrun each process encodes its share of the sentences (the costly
    part of a linear probe) and the shares are summed into the whole matrix on
    every process, so each fits the same head from the same vectors.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    order = distributed.shard(np.argsort([len(t) for t in texts], kind="stable"))
    vectors = torch.zeros(len(texts), model.config.encoder_config().hidden_size)
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc="linear probe: encoding", unit="batch", disable=not sys.stderr.isatty()):
        index = order[start : start + batch_size]
        encoded = tokenizer(
            [texts[i] for i in index], truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        ).to(device)
        vectors[torch.as_tensor(index)] = model.embed(**encoded).float().cpu()
    model.train(was_training)
    return distributed.all_sum(vectors)


def fit_linear_probe(
    model: MeanPoolingClassifier,
    vectors: torch.Tensor,
    targets: np.ndarray,
    *,
    c: float,
    max_iter: int = 200,
) -> dict[str, float]:
    """Set ``model.classifier`` to the per-label logistic regression of ``targets`` on the frozen ``vectors``.

    ``vectors`` are :func:`sentence_vectors` of the training sentences. The
    objective is scikit-learn's ``LogisticRegression(C=c)`` for each label
    (sum of log losses times ``c`` plus half the squared weights, intercept
    unpenalised), solved jointly with L-BFGS. Returns the final mean log loss.
    """
    y = torch.as_tensor(targets, dtype=torch.float32)
    n, dim = vectors.shape
    weight = torch.zeros(y.shape[1], dim, requires_grad=True)
    bias = torch.zeros(y.shape[1], requires_grad=True)
    optimiser = torch.optim.LBFGS([weight, bias], max_iter=max_iter, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimiser.zero_grad()
        logits = vectors @ weight.T + bias
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, y, reduction="sum") * c
        loss = loss + 0.5 * (weight**2).sum()
        loss.backward()
        return loss

    optimiser.step(objective)
    with torch.no_grad():
        model.classifier.weight.copy_(weight.to(model.classifier.weight.dtype))
        model.classifier.bias.copy_(bias.to(model.classifier.bias.dtype))
        log_loss = torch.nn.functional.binary_cross_entropy_with_logits(vectors @ weight.T + bias, y).item()
    logger.info("linear probe: C=%g on %d sentences, mean log loss %.4f", c, n, log_loss)
    return {"log_loss": log_loss}
