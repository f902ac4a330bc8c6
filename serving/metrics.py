"""Prometheus metrics, one registry per app (so tests can build many apps)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from framewatch.predictor import Predictor

__all__ = ["MetricsMiddleware", "ServerMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServerMetrics:
    """Everything ``GET /metrics`` exposes."""

    def __init__(self) -> None:
        self.in_flight = 0  # HTTP requests being handled now; the drain on shutdown waits for zero
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "framewatch_requests_total",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "framewatch_request_duration_seconds",
            "HTTP request latency by route and status.",
            ["method", "route", "status"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "framewatch_batch_size", "Sentences per model batch.", buckets=_BATCH_BUCKETS, registry=self.registry
        )
        self.batch_seconds = Histogram(
            "framewatch_batch_duration_seconds",
            "Model time per batch.",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge("framewatch_queue_depth", "Sentences waiting for a batch.", registry=self.registry)
        self.worker_failures = Gauge(
            "framewatch_model_worker_failures",
            "Times the model worker failed and was restarted.",
            registry=self.registry,
        )
        self.windows = Gauge(
            "framewatch_windows_scored", "Model windows scored (more than sentences when some are long).",
            registry=self.registry,
        )
        self.sentences = Counter("framewatch_sentences_scored_total", "Sentences scored.", registry=self.registry)
        self.model_info = Gauge(
            "framewatch_model_info",
            "The model being served (value 1).",
            ["checkpoint_id", "device", "dtype"],
            registry=self.registry,
        )

    def observe_batch(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)
        self.sentences.inc(size)

    def set_model(self, predictor: Predictor) -> None:
        self.model_info.clear()
        self.model_info.labels(predictor.metadata.checkpoint_id, str(predictor.device), predictor.dtype).set(1)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request under its route template (bounded label values)."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        self.metrics.in_flight += 1

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.in_flight -= 1
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labels = (scope.get("method", ""), template, str(status))
            self.metrics.requests.labels(*labels).inc()
            self.metrics.latency.labels(*labels).observe(time.perf_counter() - started)
