"""Model description, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from framewatch.errors import NotReadyError
from framewatch.serving.dependencies import UserKey, services_of
from framewatch.serving.errors import responses_for
from framewatch.serving.schemas import HealthResponse, LabelInfo, ModelInfo, ServingLimits

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/v1/model", response_model=ModelInfo, tags=["model"], dependencies=[UserKey], responses=responses_for(401, 503)
)
async def model_info(request: Request) -> ModelInfo:
    """The checkpoint being served: id, label schema, thresholds, dev metrics, device and dtype."""
    services = services_of(request)
    predictor = services.registry.current
    meta = predictor.metadata
    return ModelInfo(
        checkpoint_id=meta.checkpoint_id,
        checkpoint_path=str(services.registry.checkpoint_path),
        base_model=meta.base_model,
        labels=[
            LabelInfo(id=label.id, name=label.name, description=label.description, threshold=meta.thresholds[label.id])
            for label in meta.labels
        ],
        dev_metrics=meta.dev_metrics,
        device=str(predictor.device),
        dtype=predictor.dtype,
        dtype_reason=predictor.dtype_reason,
        created=meta.created,
        limits=ServingLimits(**{name: getattr(services.settings, name) for name in ServingLimits.model_fields}),
    )


@router.get("/healthz", response_model=HealthResponse, tags=["health"])
async def healthz() -> HealthResponse:
    """The process is alive (says nothing about the model)."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=HealthResponse, tags=["health"], responses=responses_for(503))
async def readyz(request: Request) -> HealthResponse:
    """Ready once the model is loaded and has answered a warm-up, and while the model worker is running."""
    services = services_of(request)
    if not services.registry.ready:
        raise NotReadyError("model not loaded yet")
    if not services.batcher.ready:
        raise NotReadyError("model worker is not running (starting, draining or restarting after a failure)")
    return HealthResponse(status="ready")


@router.get(
    "/metrics",
    tags=["health"],
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}},
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency, queue and inference time, tokens, batches, positives per label, and
    score drift against the checkpoint's dev split (population stability index per label)."""
    services = services_of(request)
    services.metrics.queue_depth.set(services.batcher.queue_depth)
    services.metrics.worker_failures.set(services.batcher.stats.worker_failures)
    services.metrics.windows.set(services.batcher.stats.windows)
    services.metrics.refresh_drift()
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
