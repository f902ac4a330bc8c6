"""``create_app(settings, predictor)``: assemble the FastAPI application."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from framewatch import __version__
from framewatch.config import ServingConfig
from framewatch.predictor import Predictor
from framewatch.serving import routes_admin, routes_info, routes_score, routes_tei
from framewatch.serving.auth import KeyStore
from framewatch.serving.batcher import Batcher
from framewatch.serving.dependencies import Services
from framewatch.serving.errors import install_error_handlers
from framewatch.serving.limits import AdmissionGate, BodySizeLimitMiddleware
from framewatch.serving.metrics import MetricsMiddleware, ServerMetrics
from framewatch.serving.registry import ModelRegistry, PredictorLoader

__all__ = ["STATIC_DIR", "create_app", "default_loader"]

STATIC_DIR = Path(__file__).parent / "static"
"""The monitor's page (plain HTML, CSS and JS, no external resources), installed with the package."""


def default_loader(settings: ServingConfig) -> PredictorLoader:
    def load(path: Path) -> Predictor:
        return Predictor.from_checkpoint(
            path,
            device=settings.device,
            dtype=settings.dtype,
            batch_size=settings.max_batch_size,
            max_batch_tokens=settings.max_batch_tokens,
        )

    return load


def _freeze_heap() -> None:
    """Exempt everything alive now (libraries, the model) from the cyclic garbage collector's full passes.

    A full collection walks every tracked object: with torch and transformers
    loaded that stalls every request for up to a third of a second, several
    times a minute under load. Frozen objects are still freed by reference
    counting; unfreezing first lets a replaced model's cycles be collected once.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _document_limits(app: FastAPI, settings: ServingConfig) -> None:
    """Publish this server's configured size limits in its OpenAPI schema.

    The limits are settings, not constants, so they cannot live on the request
    models; inputs past them get 422 from the routes, with the limit in the message.
    """
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            models = schema["components"]["schemas"]
            texts = models["ClassifyRequest"]["properties"]["texts"]
            texts["maxItems"] = settings.max_texts_per_request
            texts["items"]["maxLength"] = settings.max_chars_per_text
            models["AnalyzeRequest"]["properties"]["text"]["maxLength"] = settings.max_chars_per_article
            for variant in models["TEIPredictRequest"]["properties"]["inputs"]["anyOf"]:
                if variant.get("type") == "array":
                    variant["maxItems"] = settings.max_texts_per_request
                    variant["items"]["maxLength"] = settings.max_chars_per_text
                else:
                    variant["maxLength"] = settings.max_chars_per_text
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi


def create_app(
    settings: ServingConfig, predictor: Predictor | None = None, *, loader: PredictorLoader | None = None
) -> FastAPI:
    """Build the app around ``predictor`` (or load ``settings.checkpoint`` at startup).

    The warm-up prediction runs in the lifespan, so ``/readyz`` turns ready only
    after the model has answered once.
    """
    metrics = ServerMetrics(drift_window=settings.drift_window)
    batcher = Batcher(
        max_batch_size=settings.max_batch_size,
        max_wait_ms=settings.max_wait_ms,
        max_queue_sentences=settings.max_queue_sentences,
        request_timeout_s=settings.request_timeout_s,
        on_batch=metrics.observe_batch,
        on_request=metrics.observe_request,
    )
    registry = ModelRegistry(loader or default_loader(settings), settings.checkpoint, batcher.run_on_model_thread)

    def on_swap(installed: Predictor) -> None:
        metrics.set_model(installed)
        _freeze_heap()

    registry.on_swap = on_swap
    services = Services(settings, registry, batcher, KeyStore.from_settings(settings), metrics)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        batcher.start()
        if predictor is not None:
            await registry.install(predictor, settings.checkpoint)
        else:
            await registry.reload(settings.checkpoint)
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="framewatch",
        version=__version__,
        description="Scores sentences and articles for narrative framing (multi-label).",
        lifespan=lifespan,
    )
    app.state.services = services
    install_error_handlers(app)
    app.include_router(routes_score.router)
    app.include_router(routes_info.router)
    app.include_router(routes_admin.router)
    app.include_router(routes_tei.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        """The monitor's page: paste an article, see its sentences scored and the evidence behind each flag."""
        return FileResponse(STATIC_DIR / "index.html")

    _document_limits(app, settings)
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(AdmissionGate, is_draining=lambda: services.draining)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app
