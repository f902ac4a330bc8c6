"""``POST /v1/classify`` and ``POST /v1/analyze``: the scoring routes."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from framewatch.errors import InputError, LimitExceeded
from framewatch.predictor import ScoredTexts, to_predictions
from framewatch.segment import split_sentences
from framewatch.serving.dependencies import ServicesDep, UserKey
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


def _results(predictor, scored: ScoredTexts) -> list[TextResult]:
    return [
        TextResult(labels=p.labels, scores=p.scores, windows=p.windows)
        for p in to_predictions(scored, predictor.label_ids, predictor.thresholds)
    ]


@router.post("/classify", response_model=ClassifyResponse, responses=_ERRORS)
async def classify(body: ClassifyRequest, services: ServicesDep) -> ClassifyResponse:
    """Score each text (a sentence) and return labels and per-label scores, in order."""
    limits = services.settings
    if len(body.texts) > limits.max_texts_per_request:
        raise LimitExceeded(f"{len(body.texts)} texts; at most {limits.max_texts_per_request} per request")
    for i, text in enumerate(body.texts):
        if len(text) > limits.max_chars_per_text:
            raise LimitExceeded(f"texts[{i}] has {len(text)} characters; at most {limits.max_chars_per_text}")
    predictor = services.registry.current
    scored = await services.batcher.score(predictor, body.texts)
    return ClassifyResponse(model=predictor.metadata.checkpoint_id, results=_results(predictor, scored))


@router.post("/analyze", response_model=AnalyzeResponse, responses=_ERRORS)
async def analyze(body: AnalyzeRequest, services: ServicesDep) -> AnalyzeResponse:
    """Split an article into sentences, score every one (long ones over windows), and summarise per label."""
    limits = services.settings
    if len(body.text) > limits.max_chars_per_article:
        raise LimitExceeded(f"article has {len(body.text)} characters; at most {limits.max_chars_per_article}")
    spans = await run_in_threadpool(split_sentences, body.text)
    if not spans:
        raise InputError("no sentences found in text")
    if len(spans) > limits.max_sentences_per_article:
        raise LimitExceeded(
            f"article has {len(spans)} sentences; at most {limits.max_sentences_per_article} "
            "(serving.max_sentences_per_article)"
        )
    predictor = services.registry.current
    scored = await services.batcher.score(predictor, [span.text for span in spans])
    scores = scored.scores
    results = _results(predictor, scored)
    sentences = [
        SentenceResult(
            text=span.text, start=span.start, end=span.end, labels=r.labels, scores=r.scores, windows=r.windows
        )
        for span, r in zip(spans, results)
    ]
    flagged = decide(scores, predictor.thresholds)
    summary = {
        label: LabelSummary(
            sentences=int(flagged[:, k].sum()),
            max_score=round(float(scores[:, k].max()), 6),
            share=round(float(flagged[:, k].mean()), 6),
        )
        for k, label in enumerate(predictor.label_ids)
    }
    return AnalyzeResponse(model=predictor.metadata.checkpoint_id, sentences=sentences, summary=summary)
