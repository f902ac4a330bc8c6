"""``POST /v1/classify`` and ``POST /v1/analyze``: the scoring routes."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request

from framewatch.errors import InputError, LimitExceeded
from framewatch.explain import evidence_for, labels_on, plan_occlusion
from framewatch.predictor import ScoredTexts, to_predictions
from framewatch.segment import split_sentences
from framewatch.serving.dependencies import UserKey, services_of
from framewatch.serving.errors import responses_for
from framewatch.serving.schemas import (
    AnalyzeRequest,
    AnalyzeResponse,
    ClassifyRequest,
    ClassifyResponse,
    LabelSummary,
    SentenceResult,
    TextResult,
)
from framewatch.thresholds import decide

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["scoring"], dependencies=[UserKey])

_ERRORS = responses_for(400, 401, 413, 422, 500, 503)


def _results(
    predictor, scored: ScoredTexts, decided: np.ndarray, evidence: list[dict] | None = None
) -> list[TextResult]:
    predictions = to_predictions(scored, predictor.label_ids, decided)
    return [
        TextResult(
            labels=p.labels, scores=p.scores, windows=p.windows, evidence=None if evidence is None else evidence[i]
        )
        for i, p in enumerate(predictions)
    ]


async def _explain(
    services, predictor, texts: list[str], scored: ScoredTexts, decided: np.ndarray, offsets: list[int] | None = None
) -> list[dict]:
    """Occlusion evidence for each flagged text; its variants go through the model worker like any request.

    Variants are sent in requests of at most ``max_texts_per_request`` texts, which the config guarantees
    an empty queue can admit, so an explanation never needs more room than a client request.
    """
    flagged = [i for i, row in enumerate(decided) if row.any()]
    limit = services.settings.max_explain_sentences
    if len(flagged) > limit:
        raise LimitExceeded(
            f"explain: {len(flagged)} sentences carry a label; at most {limit} are explained per request "
            "(serving.max_explain_sentences): send fewer, or explain chosen sentences with /v1/classify"
        )
    evidence: list[dict] = [{} for _ in texts]
    for i in flagged:
        plan = plan_occlusion(texts[i])
        pending, step = plan.texts_to_score, services.settings.max_texts_per_request
        parts = [await services.batcher.score(predictor, pending[j : j + step]) for j in range(0, len(pending), step)]
        evidence[i] = evidence_for(
            texts[i],
            plan,
            np.concatenate([p.scores for p in parts]) if parts else np.zeros((0, len(predictor.label_ids))),
            scored.scores[i],
            labels_on(decided[i], predictor.label_ids),
            offset=offsets[i] if offsets else 0,
        )
    return evidence


async def _score_texts(
    services, predictor, texts: list[str], explain: bool, offsets: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, list[TextResult]]:
    """Score texts through the model worker, apply the decision rule, count them, and explain on request.

    Both scoring routes answer through this one sequence, so a text is never scored or counted one
    way in ``/v1/classify`` and another in ``/v1/analyze``.
    """
    scored = await services.batcher.score(predictor, texts)
    decided = decide(scored.scores, predictor.thresholds)
    services.metrics.observe_served(scored.scores, decided)
    evidence = await _explain(services, predictor, texts, scored, decided, offsets) if explain else None
    return scored.scores, decided, _results(predictor, scored, decided, evidence)


@router.post("/classify", response_model=ClassifyResponse, response_model_exclude_none=True, responses=_ERRORS)
async def classify(body: ClassifyRequest, request: Request) -> ClassifyResponse:
    """Score each text (a sentence) and return labels and per-label scores, in order."""
    services = services_of(request)
    limits = services.settings
    if len(body.texts) > limits.max_texts_per_request:
        raise LimitExceeded(f"{len(body.texts)} texts; at most {limits.max_texts_per_request} per request")
    for i, text in enumerate(body.texts):
        if len(text) > limits.max_chars_per_text:
            raise LimitExceeded(f"texts[{i}] has {len(text)} characters; at most {limits.max_chars_per_text}")
    predictor = services.registry.current
    _, _, results = await _score_texts(services, predictor, body.texts, body.explain)
    return ClassifyResponse(model=predictor.metadata.checkpoint_id, results=results)


@router.post("/analyze", response_model=AnalyzeResponse, response_model_exclude_none=True, responses=_ERRORS)
async def analyze(body: AnalyzeRequest, request: Request) -> AnalyzeResponse:
    """Split an article into sentences, score every one (long ones over windows), and summarise per label."""
    services = services_of(request)
    limits = services.settings
    if len(body.text) > limits.max_chars_per_article:
        raise LimitExceeded(f"article has {len(body.text)} characters; at most {limits.max_chars_per_article}")
    spans = split_sentences(body.text)  # compiled and sub-millisecond: a thread hop would cost more
    if not spans:
        raise InputError("no sentences found in text")
    if len(spans) > limits.max_sentences_per_article:
        raise LimitExceeded(
            f"article has {len(spans)} sentences; at most {limits.max_sentences_per_article} "
            "(serving.max_sentences_per_article)"
        )
    predictor = services.registry.current
    texts = [span.text for span in spans]
    scores, flagged, results = await _score_texts(
        services, predictor, texts, body.explain, offsets=[span.start for span in spans]
    )
    sentences = [
        SentenceResult(text=span.text, start=span.start, end=span.end, **r.model_dump())
        for span, r in zip(spans, results)
    ]
    summary = {
        label: LabelSummary(
            sentences=int(flagged[:, k].sum()),
            max_score=round(float(scores[:, k].max()), 6),
            share=round(float(flagged[:, k].mean()), 6),
        )
        for k, label in enumerate(predictor.label_ids)
    }
    return AnalyzeResponse(model=predictor.metadata.checkpoint_id, sentences=sentences, summary=summary)
