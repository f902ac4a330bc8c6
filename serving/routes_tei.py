"""``POST /predict`` and ``GET /info`` in text-embeddings-inference's wire format.

Clients written for a TEI sequence-classification server work unchanged, with
one difference in the scores: TEI applies a softmax over the labels of any
classifier, which makes a multi-label model's scores compete; framewatch returns
each label's own sigmoid score, as its other routes do. ``raw_scores: true``
returns the logits in both.

Without ``truncate``, a text longer than the model's window is scored over
overlapping windows (TEI would refuse it); with ``truncate: true`` only the
first (``Right``) or last (``Left``) window is scored, as in TEI.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request

from framewatch import __version__
from framewatch.errors import LimitExceeded
from framewatch.serving.dependencies import UserKey, services_of
from framewatch.serving.errors import TEI_TAG, tei_error_response, tei_responses_for
from framewatch.serving.schemas import (
    TEIClassifier,
    TEIInfo,
    TEIModelType,
    TEIPrediction,
    TEIPredictRequest,
)
from framewatch.thresholds import decide

__all__ = ["router"]

router = APIRouter(tags=[TEI_TAG], dependencies=[UserKey])

_LOGIT_CLIP = 1e-7  # a sigmoid score rounded to 0 or 1 in float32 has no finite logit

_DTYPE_NAMES = {"fp32": "float32", "bf16": "bfloat16"}


def _logits(scores: np.ndarray) -> np.ndarray:
    p = np.clip(scores.astype(np.float64), _LOGIT_CLIP, 1 - _LOGIT_CLIP)
    return np.log(p) - np.log1p(-p)


def _ranked(row: np.ndarray, label_ids: list[str]) -> list[TEIPrediction]:
    order = np.argsort(-row, kind="stable")
    return [TEIPrediction(score=round(float(row[k]), 6), label=label_ids[k]) for k in order.tolist()]


@router.post(
    "/predict",
    response_model=list[TEIPrediction] | list[list[TEIPrediction]],
    responses=tei_responses_for(400, 401, 413, 422, 424, 429, 503),
)
async def predict(body: TEIPredictRequest, request: Request):
    """Score one text (a list of ``{score, label}``, highest first) or a batch (a list of such lists)."""
    services = services_of(request)
    single = isinstance(body.inputs, str)
    texts = [body.inputs] if single else list(body.inputs)
    if not texts:
        return tei_error_response(400, "Empty", "`inputs` cannot be empty")
    limits = services.settings
    if len(texts) > limits.max_texts_per_request:
        raise LimitExceeded(
            f"batch size {len(texts)} > maximum allowed batch size {limits.max_texts_per_request} "
            "(serving.max_texts_per_request)"
        )
    for i, text in enumerate(texts):
        if len(text) > limits.max_chars_per_text:
            raise LimitExceeded(f"inputs[{i}] has {len(text)} characters; at most {limits.max_chars_per_text}")
    predictor = services.registry.current
    truncation = body.truncation_direction.lower() if body.truncate else None
    scored = await services.batcher.score(predictor, texts, truncation=truncation)
    services.metrics.observe_served(scored.scores, decide(scored.scores, predictor.thresholds))
    rows = _logits(scored.scores) if body.raw_scores else scored.scores
    ranked = [_ranked(row, predictor.label_ids) for row in rows]
    return ranked[0] if single else ranked


@router.get("/info", response_model=TEIInfo, responses=tei_responses_for(401, 503))
async def info(request: Request) -> TEIInfo:
    """The served model and this router's limits, as TEI's ``/info`` describes them."""
    services = services_of(request)
    predictor = services.registry.current
    meta = predictor.metadata
    settings = services.settings
    return TEIInfo(
        model_id=meta.checkpoint_id,
        model_sha=None,
        model_dtype=_DTYPE_NAMES.get(predictor.dtype, predictor.dtype),
        served_model_name=meta.checkpoint_id,
        model_type=TEIModelType(
            classifier=TEIClassifier(
                id2label={str(k): label for k, label in enumerate(predictor.label_ids)},
                label2id={label: k for k, label in enumerate(predictor.label_ids)},
            )
        ),
        max_concurrent_requests=settings.max_queue_sentences,
        max_input_length=meta.max_length,
        max_batch_tokens=settings.max_batch_tokens,
        max_batch_requests=None,
        max_client_batch_size=settings.max_texts_per_request,
        auto_truncate=False,
        tokenization_workers=1,
        version=__version__,
    )
